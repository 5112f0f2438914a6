import { compileWat, ensureMemory, instantiate, type WasmMemory, type WasmModule } from '@sgfd/tensor/wasm';
import { DOT_ROWS_WAT } from './dot-rows.wat';

let compiled: Promise<WasmModule> | undefined;

/** The kernel's module, compiled from its text once per process. */
function dotRowsModule(): Promise<WasmModule> {
  compiled ??= compileWat('dot-rows.wat', DOT_ROWS_WAT);
  return compiled;
}

/**
 * One matrix's rows dotted with a query vector, in WebAssembly SIMD: the matrix is copied into the kernel's
 * own memory once, so a query copies only its d floats in and its n scores out.
 */
export interface DotRows {
  /** out[i] = <query, row i>; `query` has the matrix's width. */
  scores(query: Float32Array, out: Float32Array): void;
}

export async function dotRows(matrix: Float32Array, rows: number, width: number): Promise<DotRows> {
  const exports = instantiate(await dotRowsModule());
  const wasmMemory = exports.memory as WasmMemory;
  ensureMemory(wasmMemory, (rows * width + width + rows) * 4, `dot scorer (${rows} x ${width} floats)`);
  const kernel = exports.dotRows as (items: number, n: number, d: number, user: number, out: number) => void;
  const itemsAt = 0;
  const queryAt = rows * width * 4;
  const outAt = queryAt + width * 4;
  new Float32Array(wasmMemory.buffer, itemsAt, rows * width).set(matrix.subarray(0, rows * width));
  const query = new Float32Array(wasmMemory.buffer, queryAt, width);
  const scores = new Float32Array(wasmMemory.buffer, outAt, rows);
  return {
    scores(q, out) {
      query.set(q);
      kernel(itemsAt, rows, width, queryAt, outAt);
      out.set(scores);
    },
  };
}
