// WebAssembly text compiled at load by wabt: no tfjs import, so serving can use it without loading an engine.
export { compileWat, ensureMemory, instantiate, WASM_PAGE_BYTES } from './compile-wat';
export type { WasmMemory, WasmModule } from './compile-wat';
