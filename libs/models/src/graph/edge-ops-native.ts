import { coordinatePairs, sparseDenseMatMul, tf, unsortedSegmentMax } from '@sgfd/tensor';
import type { SparsePattern } from './pattern';

// The edge ops on the tensorflow backend: TensorFlow kernels throughout, so nothing of size nnz or
// n x d crosses into JavaScript. Index tensors are uploaded per call and freed with it (a few hundred
// microseconds), so no tensor outlives a step.

type GradInputs = Array<tf.Tensor | tf.GradSaveFunc>;

const coordinates = new WeakMap<SparsePattern, Int32Array>();

/** (row, col) of every entry, [nnz, 2], for TensorFlow's sparse ops (the pairs computed once per pattern). */
function coordinatesTensor(pattern: SparsePattern): tf.Tensor2D {
  let coords = coordinates.get(pattern);
  if (!coords) {
    coords = coordinatePairs(pattern.rows, pattern.cols);
    coordinates.set(pattern, coords);
  }
  return tf.tensor2d(coords, [pattern.nnz, 2], 'int32');
}

/** s[p] = <a[rows[p]], b[cols[p]]>, differentiable through gather (whose gradient is a segment sum). */
function sampledDots(pattern: SparsePattern, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const rows = tf.tensor1d(pattern.rows, 'int32');
    const cols = tf.tensor1d(pattern.cols, 'int32');
    return tf.sum(tf.mul(tf.gather(a, rows), tf.gather(b, cols)), 1) as tf.Tensor1D;
  });
}

/** A x with A's values a tensor: TensorFlow's sparse product forward and (adjoint) backward; d/dv by sampled dots. */
export function nativeWeightedSpmm(pattern: SparsePattern, values: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  const shape = [pattern.nRows, pattern.nCols] as const;
  const op = tf.customGrad((...args: GradInputs) => {
    const [v, xt] = args as [tf.Tensor1D, tf.Tensor2D];
    const save = args[2] as tf.GradSaveFunc;
    save([v, xt]);
    const value = tf.tidy(() => sparseDenseMatMul(coordinatesTensor(pattern), v, shape, xt, false));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sv, sx] = saved as [tf.Tensor1D, tf.Tensor2D];
        return [
          sampledDots(pattern, dy as tf.Tensor2D, sx),
          tf.tidy(() => sparseDenseMatMul(coordinatesTensor(pattern), sv, shape, dy as tf.Tensor2D, true)),
        ];
      },
    };
  });
  return op(values, x) as tf.Tensor2D;
}

/**
 * s[p] = <a[rows[p]], b[cols[p]]>, with the gradients as two sparse products (da = S b, db = S^T a for S
 * the pattern with values dy) instead of the gather gradients' broadcast products and segment sums.
 */
export function nativeEdgeDots(pattern: SparsePattern, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  const shape = [pattern.nRows, pattern.nCols] as const;
  const op = tf.customGrad((...args: GradInputs) => {
    const [at, bt] = args as [tf.Tensor2D, tf.Tensor2D];
    (args[2] as tf.GradSaveFunc)([at, bt]);
    return {
      value: sampledDots(pattern, at, bt),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
          const coords = coordinatesTensor(pattern);
          return [
            sparseDenseMatMul(coords, dy as tf.Tensor1D, shape, sb, false),
            sparseDenseMatMul(coords, dy as tf.Tensor1D, shape, sa, true),
          ];
        }),
    };
  });
  return op(a, b) as tf.Tensor1D;
}

/**
 * Softmax within each row. The row maximum is subtracted for range only; softmax does not depend on it,
 * so it is taken as a constant (TensorFlow's segment max, outside the tape) and the gradient is exact.
 */
export function nativeSegmentSoftmax(pattern: SparsePattern, scores: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const rows = tf.tensor1d(pattern.rows, 'int32');
    const rowMax = unsortedSegmentMax(scores, rows, pattern.nRows);
    const e = tf.exp(tf.sub(scores, tf.gather(rowMax, rows)));
    const sums = tf.unsortedSegmentSum(e, rows, pattern.nRows);
    return tf.div(e, tf.gather(sums, rows)) as tf.Tensor1D;
  });
}
