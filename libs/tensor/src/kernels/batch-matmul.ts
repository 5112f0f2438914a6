import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { swapLastTwoAxes } from './transpose';

interface CachedTranspose {
  /** The marked matrix's shape: a reshape shares its data but is another matrix. */
  shape: number[];
  copy: { info: tf.TensorInfo; backend: tf.KernelBackend } | null;
}

export const MAX_CACHED_TRANSPOSE_BYTES = 512 * 2 ** 20;

/** Transposed copies of constant matrices, made on their first transposed product (see `cacheTranspose`). */
const transposes = new Map<object, CachedTranspose>();

/**
 * Marks a constant 2-D tensor (a feature matrix) so that wasm products with it transposed reuse one
 * transposed copy, made on first use, instead of transposing it on every call: the weight gradient of a
 * projection of every item is F^T dY. Costs a second copy of the matrix; `releaseTranspose` frees it and
 * must be called before the tensor is disposed. A no-op on other backends, and for matrices over `maxBytes`
 * (the wasm heap ends at 4 GB: a 60k-item catalogue's 4096-d features alone take 1 GB).
 */
export function cacheTranspose(t: tf.Tensor, maxBytes = MAX_CACHED_TRANSPOSE_BYTES): void {
  if (t.rank === 2 && t.size * 4 <= maxBytes && !transposes.has(t.dataId))
    transposes.set(t.dataId, { shape: [...t.shape], copy: null });
}

export function releaseTranspose(t: tf.Tensor): void {
  const copy = transposes.get(t.dataId)?.copy;
  if (copy) copy.backend.disposeData(copy.info.dataId);
  transposes.delete(t.dataId);
}

/** Number of transposed copies held (for leak tests). */
export function cachedTransposeCount(): number {
  return [...transposes.values()].filter((c) => c.copy).length;
}

function transposedA(backend: tf.KernelBackend, a: tf.TensorInfo): { info: tf.TensorInfo; owned: boolean } {
  const entry = transposes.get(a.dataId);
  if (!entry || entry.shape.length !== a.shape.length || entry.shape.some((n, i) => n !== a.shape[i]))
    return { info: swapLastTwoAxes(backend, a), owned: true };
  if (!entry.copy || entry.copy.backend !== backend) {
    if (entry.copy) entry.copy.backend.disposeData(entry.copy.info.dataId);
    entry.copy = { info: swapLastTwoAxes(backend, a), backend };
  }
  return { info: entry.copy.info, owned: false };
}

/**
 * wasm BatchMatMul with a transposed operand leaves XNNPACK for a generic loop that is about fifty times
 * slower (README, kernels bench), so flagged operands are transposed
 * explicitly first (or taken from the cache of constant matrices) and the product is computed plainly.
 * Measured and rejected: computing C^T = op(B)^T op(A)^T to transpose only small operands; XNNPACK
 * repacks its right operand on every call, so moving the big matrix there costs what it saves.
 */
export function makeWasmBatchMatMul(stock: KernelFunc | undefined): KernelFunc {
  if (!stock) throw new Error('wasm BatchMatMul kernel missing');
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return stock(args);
    const a = transposeA ? transposedA(backend, inputs['a']) : { info: inputs['a'], owned: false };
    const b = transposeB ? swapLastTwoAxes(backend, inputs['b']) : inputs['b'];
    try {
      return stock({ inputs: { a: a.info, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (a.owned) backend.disposeData(a.info.dataId);
      if (transposeB) backend.disposeData(b.dataId);
    }
  };
}
