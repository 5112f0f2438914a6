import wabtInit from 'wabt';
import { DOT_ROWS_WAT } from './dot-rows.wat';

const PAGE_BYTES = 65536;

// The few WebAssembly globals used, typed here (the workspace's TypeScript libs do not declare them).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: Promise<object> | undefined;

/** The kernel's module, compiled from its text once per process (wabt: the WebAssembly toolkit's own parser). */
function dotRowsModule(): Promise<object> {
  compiled ??= (async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('dot-rows.wat', DOT_ROWS_WAT, { simd: true });
    try {
      parsed.validate();
      return new wasm.Module(parsed.toBinary({}).buffer);
    } finally {
      parsed.destroy();
    }
  })();
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
  const bytes = (rows * width + width + rows) * 4;
  if (bytes > 2 ** 32 - PAGE_BYTES) {
    throw new RangeError(`dot scorer: ${rows} x ${width} floats exceed WebAssembly's 4 GiB memory`);
  }
  const exports = new wasm.Instance(await dotRowsModule()).exports;
  const wasmMemory = exports.memory as WasmMemory;
  const missing = Math.ceil(bytes / PAGE_BYTES) - wasmMemory.buffer.byteLength / PAGE_BYTES;
  if (missing > 0) wasmMemory.grow(missing);
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
