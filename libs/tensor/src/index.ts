export { tf } from './tf';
export { initBackend, currentBackend, loadNativeTensorflow, BACKEND_NAMES } from './backend';
export type { BackendName, InitBackendOptions, NativeLoader } from './backend';
export { createRng } from './rng';
export type { Rng, RngState } from './rng';
export { xavierUniform, xavierNormal, normalInit, dropoutMask, seededValues } from './init';
export { topK } from './topk';
export type { TopK } from './topk';
