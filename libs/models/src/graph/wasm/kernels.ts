import { assemble, I32, op, V128, type FunctionDef } from './encoder';

// Two kernels of sparse graph ops in WebAssembly SIMD (4 floats per instruction), about 5x the
// equivalent JavaScript loops in V8 including the copies in and out of the module's memory:
//   spmm:  out[r] = sum over q in [indptr[r], indptr[r+1]) of vals[q] * x[cols[q]]
//   sddmm: out[p] = <a[rows[p]], b[cols[p]]>
// Rows are `dim` floats, dim a multiple of 4 (callers fall back to JavaScript otherwise). All
// addresses are byte offsets into the module's own memory.

const { get, set, i32, add, mul, shl, geS, block, loop, end, br, brIf } = op;

/** spmm with `blocks` v128 accumulators: 4 * blocks output columns per pass over a row's entries. */
function spmm(blocks: number): FunctionDef {
  // params: 0 indptr, 1 cols, 2 vals, 3 x, 4 out, 5 nRows, 6 dim
  const [r, j, q, qEnd, rowBytes, xs, v] = [7, 8, 9, 10, 11, 12, 13];
  const acc = (k: number) => 14 + k;
  const accs = Array.from({ length: blocks }, (_, k) => k);
  return {
    name: `spmm${4 * blocks}`,
    params: 7,
    locals: [
      [6, I32],
      [1 + blocks, V128],
    ],
    body: [
      ...get(6),
      ...i32(2),
      ...shl,
      ...set(rowBytes),
      ...i32(0),
      ...set(r),
      ...block,
      ...loop,
      ...get(r),
      ...get(5),
      ...geS,
      ...brIf(1),
      ...i32(0),
      ...set(j),
      ...block,
      ...loop,
      ...get(j),
      ...get(rowBytes),
      ...geS,
      ...brIf(1),
      ...accs.flatMap((k) => [...op.v128Zero, ...set(acc(k))]),
      ...get(0),
      ...get(r),
      ...i32(2),
      ...shl,
      ...add,
      ...op.i32Load(),
      ...set(q),
      ...get(0),
      ...get(r),
      ...i32(2),
      ...shl,
      ...add,
      ...op.i32Load(4),
      ...set(qEnd),
      ...block,
      ...loop,
      ...get(q),
      ...get(qEnd),
      ...geS,
      ...brIf(1),
      // xs = x + cols[q] * rowBytes + j; v = splat(vals[q])
      ...get(3),
      ...get(1),
      ...get(q),
      ...i32(2),
      ...shl,
      ...add,
      ...op.i32Load(),
      ...get(rowBytes),
      ...mul,
      ...add,
      ...get(j),
      ...add,
      ...set(xs),
      ...get(2),
      ...get(q),
      ...i32(2),
      ...shl,
      ...add,
      ...op.f32Load(),
      ...op.f32x4Splat,
      ...set(v),
      ...accs.flatMap((k) => [
        ...get(acc(k)),
        ...get(v),
        ...get(xs),
        ...op.v128Load(16 * k),
        ...op.f32x4Mul,
        ...op.f32x4Add,
        ...set(acc(k)),
      ]),
      ...get(q),
      ...i32(1),
      ...add,
      ...set(q),
      ...br(0),
      ...end,
      ...end,
      // store the accumulators at out + r * rowBytes + j
      ...accs.flatMap((k) => [
        ...get(4),
        ...get(r),
        ...get(rowBytes),
        ...mul,
        ...add,
        ...get(j),
        ...add,
        ...get(acc(k)),
        ...op.v128Store(16 * k),
      ]),
      ...get(j),
      ...i32(16 * blocks),
      ...add,
      ...set(j),
      ...br(0),
      ...end,
      ...end,
      ...get(r),
      ...i32(1),
      ...add,
      ...set(r),
      ...br(0),
      ...end,
      ...end,
    ],
  };
}

function sddmm(): FunctionDef {
  // params: 0 rows, 1 cols, 2 a, 3 b, 4 out, 5 nnz, 6 dim
  const [p, ao, bo, j, rowBytes, acc] = [7, 8, 9, 10, 11, 12];
  const lane = (k: number) => [...get(acc), ...op.f32x4Lane(k)];
  return {
    name: 'sddmm',
    params: 7,
    locals: [
      [5, I32],
      [1, V128],
    ],
    body: [
      ...get(6),
      ...i32(2),
      ...shl,
      ...set(rowBytes),
      ...i32(0),
      ...set(p),
      ...block,
      ...loop,
      ...get(p),
      ...get(5),
      ...geS,
      ...brIf(1),
      ...get(2),
      ...get(0),
      ...get(p),
      ...i32(2),
      ...shl,
      ...add,
      ...op.i32Load(),
      ...get(rowBytes),
      ...mul,
      ...add,
      ...set(ao),
      ...get(3),
      ...get(1),
      ...get(p),
      ...i32(2),
      ...shl,
      ...add,
      ...op.i32Load(),
      ...get(rowBytes),
      ...mul,
      ...add,
      ...set(bo),
      ...op.v128Zero,
      ...set(acc),
      ...i32(0),
      ...set(j),
      ...block,
      ...loop,
      ...get(j),
      ...get(rowBytes),
      ...geS,
      ...brIf(1),
      ...get(acc),
      ...get(ao),
      ...get(j),
      ...add,
      ...op.v128Load(),
      ...get(bo),
      ...get(j),
      ...add,
      ...op.v128Load(),
      ...op.f32x4Mul,
      ...op.f32x4Add,
      ...set(acc),
      ...get(j),
      ...i32(16),
      ...add,
      ...set(j),
      ...br(0),
      ...end,
      ...end,
      ...get(4),
      ...get(p),
      ...i32(2),
      ...shl,
      ...add,
      ...lane(0),
      ...lane(1),
      ...op.f32Add,
      ...lane(2),
      ...op.f32Add,
      ...lane(3),
      ...op.f32Add,
      ...op.f32Store(),
      ...get(p),
      ...i32(1),
      ...add,
      ...set(p),
      ...br(0),
      ...end,
      ...end,
    ],
  };
}

type Kernel = (...args: number[]) => void;

// The few WebAssembly globals used, typed here (the workspace's TypeScript libs do not declare them).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Instance {
  memory: WasmMemory;
  spmm4: Kernel;
  spmm16: Kernel;
  sddmm: Kernel;
}

let instance: Instance | null | undefined;

function load(): Instance | null {
  if (instance !== undefined) return instance;
  const bytes = assemble([spmm(1), spmm(4), sddmm()]);
  if (!wasm || !wasm.validate(bytes)) return (instance = null);
  const exports = new wasm.Instance(new wasm.Module(bytes)).exports;
  return (instance = {
    memory: exports.memory as WasmMemory,
    spmm4: exports.spmm4 as Kernel,
    spmm16: exports.spmm16 as Kernel,
    sddmm: exports.sddmm as Kernel,
  });
}

/** Copies arrays into the module's memory (16-byte aligned, growing it as needed); returns their addresses. */
function place(m: Instance, arrays: Array<Int32Array | Float32Array>, outBytes: number): { at: number[]; out: number } {
  const aligned = (n: number) => (n + 15) & ~15;
  const total = arrays.reduce((n, a) => n + aligned(a.byteLength), 0) + aligned(outBytes);
  const missing = total - m.memory.buffer.byteLength;
  if (missing > 0) m.memory.grow(Math.ceil(missing / 65536));
  const heap = new Uint8Array(m.memory.buffer);
  let offset = 0;
  const at = arrays.map((a) => {
    const here = offset;
    heap.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), here);
    offset += aligned(a.byteLength);
    return here;
  });
  return { at, out: offset };
}

/** Whether the SIMD kernels can run rows of this width. */
export function simdAvailable(dim: number): boolean {
  return dim % 4 === 0 && load() !== null;
}

/** out[r] = sum_q vals[q] x[cols[q]] over the CSR rows; x has `dim` columns (a multiple of 4). */
export function simdSpmm(
  indptr: Int32Array,
  cols: Int32Array,
  vals: Float32Array,
  x: Float32Array,
  dim: number,
  nRows: number,
): Float32Array {
  const m = load()!;
  const { at, out } = place(m, [indptr, cols, vals, x], nRows * dim * 4);
  (dim % 16 === 0 ? m.spmm16 : m.spmm4)(at[0], at[1], at[2], at[3], out, nRows, dim);
  return new Float32Array(m.memory.buffer, out, nRows * dim).slice();
}

/** out[p] = <a[rows[p]], b[cols[p]]>; rows of `dim` floats (a multiple of 4). */
export function simdSddmm(
  rows: Int32Array,
  cols: Int32Array,
  a: Float32Array,
  b: Float32Array,
  dim: number,
): Float32Array {
  const m = load()!;
  const { at, out } = place(m, [rows, cols, a, b], rows.length * 4);
  m.sddmm(at[0], at[1], at[2], at[3], out, rows.length, dim);
  return new Float32Array(m.memory.buffer, out, rows.length).slice();
}
