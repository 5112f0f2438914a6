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

/** Registers the custom kernels for a tfjs backend: the one place that chooses kernels per backend. */
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
