import { isNativeBackend } from '../native/native-ops';
import { arraySparseOps } from '../sparse/array-ops';
import { javascriptSparseKernels } from '../sparse/loops';
import { nativeSparseOps } from '../sparse/native-sparse-ops';
import type { SparseOps } from '../sparse/op-set';
import { sparseKernels, type SparseKernels } from '../wasm/sparse-kernels';
import { makeWasmBatchMatMul } from './batch-matmul';
import { makeGatherV2 } from './gather';
import { nativeGatherV2 } from './native-gather';
import { makeSharingCast, makeSharingIdentity } from './share-data';
import { overrideKernel } from './registry';
import { unsortedSegmentSum } from './segment-sum';
import { makeWasmSum } from './sum';
import { makeTranspose } from './transpose';

export { restoreStockKernel, isOverridden } from './registry';
export { cacheTranspose, releaseTranspose, cachedTransposeCount } from './batch-matmul';

// The one place that chooses kernels per backend: tfjs kernel overrides (`registerCustomKernels`) and the
// kernels of the sparse ops (`sparseOps`).

/** Registers the custom kernels for a tfjs backend. */
export function registerCustomKernels(backendName: string): void {
  if (backendName === 'tensorflow') {
    overrideKernel('GatherV2', backendName, () => nativeGatherV2);
    return;
  }
  if (backendName !== 'cpu' && backendName !== 'wasm') return;
  overrideKernel('UnsortedSegmentSum', backendName, () => unsortedSegmentSum);
  overrideKernel('GatherV2', backendName, makeGatherV2);
  overrideKernel('Transpose', backendName, makeTranspose);
  if (backendName === 'wasm') {
    overrideKernel('BatchMatMul', backendName, makeWasmBatchMatMul);
    overrideKernel('Identity', backendName, makeSharingIdentity);
    overrideKernel('Cast', backendName, makeSharingCast);
    overrideKernel('Sum', backendName, makeWasmSum);
  }
}

/**
 * The array kernels of the sparse ops off the native engine: the WebAssembly SIMD kernels once `initBackend`
 * has loaded them, else the JavaScript loops that are their tested reference.
 */
export function sparseArrayKernels(): SparseKernels {
  return sparseKernels() ?? javascriptSparseKernels;
}

const arrayOpsByKernels = new Map<SparseKernels, SparseOps>();

/** The sparse ops' kernels for the active backend: TensorFlow's on the native engine, else the array kernels. */
export function sparseOps(): SparseOps {
  if (isNativeBackend()) return nativeSparseOps;
  const kernels = sparseArrayKernels();
  let ops = arrayOpsByKernels.get(kernels);
  if (!ops) {
    ops = arraySparseOps(kernels);
    arrayOpsByKernels.set(kernels, ops);
  }
  return ops;
}
