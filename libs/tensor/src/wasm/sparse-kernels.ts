import { compileWat, ensureMemory, instantiate, type WasmMemory } from './compile-wat';
import { SPARSE_KERNELS_WAT } from './sparse-kernels.wat';

// The sparse graph kernels in WebAssembly SIMD (sparse-kernels.wat.ts). Compiling needs wabt, whose start is
// asynchronous, so `loadSparseKernels` runs once when the wasm or cpu backend is activated (`initBackend`)
// and the ops stay synchronous: until then `sparseKernels()` is null and callers run their JavaScript loops.

type Kernel = (...args: number[]) => void;

export interface SparseKernels {
  /** out[r] = sum_q vals[q] x[cols[q]] over the CSR rows; x and out have `dim` columns. */
  spmm(
    indptr: Int32Array,
    cols: Int32Array,
    vals: Float32Array,
    x: Float32Array,
    dim: number,
    nRows: number,
  ): Float32Array;
  /** out[p] = <a[rows[p]], b[cols[p]]>; rows of `dim` floats. */
  sddmm(rows: Int32Array, cols: Int32Array, a: Float32Array, b: Float32Array, dim: number): Float32Array;
}

let loading: Promise<SparseKernels> | undefined;
let loaded: SparseKernels | null = null;
let enabled = true;

/** Compiles and instantiates the kernels once per process; later calls return the same promise. */
export function loadSparseKernels(): Promise<SparseKernels> {
  loading ??= (async () => {
    const exports = instantiate(await compileWat('sparse-kernels.wat', SPARSE_KERNELS_WAT));
    return (loaded = bind(exports.memory as WasmMemory, exports.spmm as Kernel, exports.sddmm as Kernel));
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/** The kernels once `loadSparseKernels` has finished (and unless turned off), else null. */
export function sparseKernels(): SparseKernels | null {
  return enabled ? loaded : null;
}

/**
 * Whether the ops use the kernels once loaded (default true). The kernels bench and the tests turn them off
 * to time and check the JavaScript loops they replace; nothing else should.
 */
export function setSparseKernelsEnabled(on: boolean): void {
  enabled = on;
}

function bind(memory: WasmMemory, spmm: Kernel, sddmm: Kernel): SparseKernels {
  /** Copies arrays into the module's memory (16-byte aligned, growing it as needed); returns their addresses. */
  function place(arrays: Array<Int32Array | Float32Array>, outBytes: number, what: string): number[] {
    const aligned = (n: number) => (n + 15) & ~15;
    const total = arrays.reduce((n, a) => n + aligned(a.byteLength), 0) + aligned(outBytes);
    ensureMemory(memory, total, what);
    const heap = new Uint8Array(memory.buffer);
    let offset = 0;
    const at = arrays.map((a) => {
      const here = offset;
      heap.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), here);
      offset += aligned(a.byteLength);
      return here;
    });
    return [...at, offset];
  }
  return {
    spmm(indptr, cols, vals, x, dim, nRows) {
      const [i, c, v, xs, out] = place([indptr, cols, vals, x], nRows * dim * 4, 'spmm');
      spmm(i, c, v, xs, out, nRows, dim);
      return new Float32Array(memory.buffer, out, nRows * dim).slice();
    },
    sddmm(rows, cols, a, b, dim) {
      const [r, c, as, bs, out] = place([rows, cols, a, b], rows.length * 4, 'sddmm');
      sddmm(r, c, as, bs, out, rows.length, dim);
      return new Float32Array(memory.buffer, out, rows.length).slice();
    },
  };
}
