import { isNativeBackend, statelessRandomUniform } from '../native/native-ops';
import { tf } from '../tf';
import { arraySparseOps } from '../sparse/array-ops';
import { javascriptSparseKernels } from '../sparse/loops';
import { nativeSparseOps } from '../sparse/native-sparse-ops';
import type { SparseOps } from '../sparse/op-set';
import { sparseKernels, type SparseKernels } from '../wasm/sparse-kernels';
import { makeWasmBatchMatMul } from './batch-matmul';
import { makeGatherV2 } from './gather';
import { registerGradientOverrides } from './gradients';
import { makeNativeBatchMatMul } from './native-batch-matmul';
import { nativeGatherV2 } from './native-gather';
import { nativeStep } from './native-step';
import {
  makeSameDtypeSharingCast,
  makeIdentitySharingTranspose,
  makeSameShapeSharingReshape,
  makeSharingCast,
  makeSharingIdentity,
} from './share-data';
import { overrideKernel } from './registry';
import { unsortedSegmentSum } from './segment-sum';
import { makeWasmSum } from './sum';
import { makeTranspose } from './transpose';

export { restoreStockKernel, isOverridden } from './registry';
export { restoreStockGradients } from './gradients';
export { cacheTranspose, releaseTranspose, cachedTransposeCount } from './batch-matmul';

// The one place that chooses kernels per backend: tfjs kernel overrides (`registerCustomKernels`), the
// kernels of the sparse ops (`sparseOps`) and the seeded uniform draws (`seededUniform`).

/** Registers the custom kernels for a tfjs backend. */
export function registerCustomKernels(backendName: string): void {
  registerGradientOverrides();
  if (backendName === 'tensorflow') {
    overrideKernel('GatherV2', backendName, () => nativeGatherV2);
    overrideKernel('BatchMatMul', backendName, makeNativeBatchMatMul);
    overrideKernel('Cast', backendName, makeSameDtypeSharingCast);
    overrideKernel('Reshape', backendName, makeSameShapeSharingReshape);
    overrideKernel('Transpose', backendName, makeIdentitySharingTranspose);
    overrideKernel('Step', backendName, () => nativeStep);
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

/**
 * U[0, 1) values of `shape` that depend only on (seed, stream): TensorFlow's counter-based generator on the
 * native engine (about 3 ms per million values here), else tfjs's seeded alea generator (about 10 ms, a
 * JavaScript loop). The same arguments give the same values on one engine; the engines' streams differ.
 */
export function seededUniform(shape: readonly number[], seed: number, stream: number): tf.Tensor {
  if (isNativeBackend()) return statelessRandomUniform(shape, seed, stream);
  return tf.randomUniform([...shape], 0, 1, 'float32', `${seed}:${stream}`);
}
