export { tf } from './tf';
export { initBackend, currentBackend, loadNativeTensorflow, tfjsBackendOf, BACKEND_NAMES } from './backend';
export { coordinatePairs, isNativeBackend, sparseDenseMatMul, unsortedSegmentMax } from './native/native-ops';
export { nativeThreadCount } from './native/load-engine';
export { FusedAdamSlot } from './native/fused-adam';
export type { AdamHyper } from './native/fused-adam';
export type { BackendName, InitBackendOptions, NativeLoader } from './backend';
export {
  registerCustomKernels,
  restoreStockKernel,
  isOverridden,
  cacheTranspose,
  releaseTranspose,
  cachedTransposeCount,
} from './kernels';
export { createRng } from './rng';
export type { Rng, RngState } from './rng';
export { xavierUniform, xavierNormal, normalInit, dropoutMask, seededValues } from './init';
export { solveSpd } from './linalg';
export { topK } from './topk';
export type { TopK } from './topk';
export {
  SparseMatrix,
  sparseFromCoo,
  spmm,
  csrTimesDense,
  csrProduct,
  sampledDots,
  countingOrder,
  csrProblem,
  transposeStructure,
} from './sparse';
export type { Csr, CsrProblem, CsrStructure } from './sparse';
export { loadSparseKernels, setSparseKernelsEnabled, sparseKernels } from './wasm/sparse-kernels';
export type { SparseKernels } from './wasm/sparse-kernels';
