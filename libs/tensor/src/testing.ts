// Plain-loop references and helpers for tests (`@sgfd/tensor/testing`, not exported from index.ts).
import { initBackend, tfjsBackendOf, type BackendName } from './backend';
import { createRng } from './rng';
import { tf } from './tf';

export { checkGradients } from './finite-differences';
export type { GradientCheck } from './finite-differences';

/** Switches the tests of a file to `backend`, quietly. */
export async function useBackend(backend: BackendName): Promise<void> {
  await initBackend({ prefer: backend, env: {}, log: () => undefined });
  if (tf.getBackend() !== tfjsBackendOf(backend)) throw new Error(`could not switch to ${backend}`);
}

/** Seeded values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.float() - 1);
}

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

/** C = op(A) op(B) for row-major matrices, op = transpose when flagged. */
export function referenceMatMul(
  a: ArrayLike<number>,
  aShape: [number, number],
  transposeA: boolean,
  b: ArrayLike<number>,
  bShape: [number, number],
  transposeB: boolean,
): { values: Float64Array; shape: [number, number] } {
  const [m, k] = transposeA ? [aShape[1], aShape[0]] : aShape;
  const [k2, n] = transposeB ? [bShape[1], bShape[0]] : bShape;
  if (k !== k2) throw new Error('inner dimensions differ');
  const at = (i: number, p: number) => (transposeA ? a[p * aShape[1] + i] : a[i * aShape[1] + p]);
  const bt = (p: number, j: number) => (transposeB ? b[j * bShape[1] + p] : b[p * bShape[1] + j]);
  const values = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += at(i, p) * bt(p, j);
      values[i * n + j] = s;
    }
  return { values, shape: [m, n] };
}

export function transposeValues(values: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

/** Largest |a - b| / max(1, |b|). */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  return worst;
}

/**
 * The values of two losses at x and the largest relative error between their gradients, with the tensors
 * freed: a fused op against the dense ops it stands for.
 */
export function compareValueAndGradient(
  actual: (x: tf.Tensor) => tf.Tensor,
  expected: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
): { actual: number; expected: number; gradientError: number } {
  const a = tf.valueAndGrad(actual)(x);
  const e = tf.valueAndGrad(expected)(x);
  try {
    return {
      actual: a.value.dataSync()[0],
      expected: e.value.dataSync()[0],
      gradientError: maxRelativeError(a.grad.dataSync(), e.grad.dataSync()),
    };
  } finally {
    tf.dispose([a.value, a.grad, e.value, e.grad]);
  }
}

/** Engine tensors, backend buffers and (on tensorflow) TensorFlow's own tensor handles, to check an operation leaves nothing behind. */
export function liveCounts(): { tensors: number; dataIds: number; native: number } {
  const backend = tf.engine().backend as tf.KernelBackend & { getNumOfTFTensors?: () => number };
  return { tensors: tf.memory().numTensors, dataIds: backend.numDataIds(), native: backend.getNumOfTFTensors?.() ?? 0 };
}

/** Live counts after one warm-up `step` and after `times` more: equal when the step leaves nothing behind. */
export function liveCountsAcross(
  step: () => void,
  times = 5,
): { before: ReturnType<typeof liveCounts>; after: ReturnType<typeof liveCounts> } {
  step();
  const before = liveCounts();
  for (let i = 0; i < times; i++) step();
  return { before, after: liveCounts() };
}
