import wabtInit from 'wabt';

// The few WebAssembly globals used, typed here (the workspace's TypeScript libs do not declare them).
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export type WasmModule = object;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes in one page of WebAssembly memory. */
export const WASM_PAGE_BYTES = 65536;

let toolkit: ReturnType<typeof wabtInit> | undefined;

/**
 * Compiles WebAssembly text (SIMD allowed) to a module with wabt, the WebAssembly toolkit's own parser and
 * validator, so kernels are written and reviewed as text with named locals rather than as opcode bytes. wabt
 * starts once per process (tens of milliseconds); callers compile each module once and keep it.
 */
export async function compileWat(name: string, text: string): Promise<WasmModule> {
  toolkit ??= wabtInit();
  const parsed = (await toolkit).parseWat(name, text, { simd: true });
  try {
    parsed.validate();
    return new wasm.Module(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

/** A new instance of a module (no imports), with its exports. */
export function instantiate(module: WasmModule): Record<string, unknown> {
  return new wasm.Instance(module).exports;
}

/** Grows `memory` so it holds at least `bytes`; a RangeError past WebAssembly's 4 GiB. */
export function ensureMemory(memory: WasmMemory, bytes: number, what: string): void {
  if (bytes > 2 ** 32 - WASM_PAGE_BYTES) {
    throw new RangeError(`${what}: ${bytes} bytes exceed WebAssembly's 4 GiB memory`);
  }
  const missing = Math.ceil(bytes / WASM_PAGE_BYTES) - memory.buffer.byteLength / WASM_PAGE_BYTES;
  if (missing > 0) memory.grow(missing);
}
