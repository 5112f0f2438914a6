export { tf } from './tf';
export { initBackend, currentBackend, loadNativeTensorflow, tfjsBackendOf, BACKEND_NAMES } from './backend';
export { isNativeBackend, sparseSoftmaxCrossEntropy, sumOfSquaresNative } from './native/native-ops';
export { nativeThreadCount } from './native/load-engine';
export { FusedAdamSlot } from './native/fused-adam';
export {
  customOpsAvailable,
  customOpsError,
  setCustomOpsEnabled,
  mamlScores,
  rowCosine,
  l2NormalizeRowsFused,
  biasLeakyNormalizeFused,
  bprGapFused,
  bprRowsFused,
  bprSoftplusFused,
  topKRows,
  mamlHiddenFused,
  classifierDistillFused,
  adamGroupStep,
} from './native/custom-ops';
export type { AdamGroupEntry, ResponseDistance } from './native/custom-ops';
export { propagationMeanOfBlocks } from './native/propagation-mean';
export type { MamlScoreInputs } from './native/custom-ops';
export type { AdamHyper } from './native/fused-adam';
export type { BackendName, InitBackendOptions, NativeLoader } from './backend';
export {
  registerCustomKernels,
  restoreStockKernel,
  restoreStockGradients,
  isOverridden,
  cacheTranspose,
  releaseTranspose,
  cachedTransposeCount,
  sparseArrayKernels,
  seededUniform,
} from './kernels';
export { createRng } from './rng';
export type { Rng, RngState } from './rng';
export {
  xavierUniform,
  xavierNormal,
  normalInit,
  dropoutMask,
  seededDropoutMask,
  seededDropout,
  seededValues,
} from './init';
export { solveSpd } from './linalg';
export { topK } from './topk';
export type { TopK } from './topk';
export { SparseMatrix, sparseFromCoo, sparsePatternFromCoo } from './sparse/sparse-matrix';
export type { SparseMatrixArrays } from './sparse/sparse-matrix';
export { csrFromCoo, csrProblem, entryRows } from './sparse/csr';
export type { CsrProblem, CsrStructure } from './sparse/csr';
export { spmm, weightedSpmm, edgeDots, segmentSoftmax, rowSums, symmetricNormalize } from './sparse/ops';
export { loadSparseKernels, setSparseKernelsEnabled, sparseKernels } from './wasm/sparse-kernels';
export type { SparseKernels } from './wasm/sparse-kernels';
