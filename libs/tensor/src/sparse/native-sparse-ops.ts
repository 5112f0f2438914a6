import { csrMatMul, customOpsAvailable, sampledDots, segmentSoftmaxByRows } from '../native/custom-ops';
import { runNativeOp, sparseDenseMatMul, unsortedSegmentMax } from '../native/native-ops';
import { residentArray } from '../native/resident-arrays';
import { tf } from '../tf';
import type { GradInputs, SparseOps } from './op-set';
import type { SparseMatrix } from './sparse-matrix';

// The sparse ops on the tensorflow backend: TensorFlow kernels throughout, so nothing of size nnz or
// n x d crosses into JavaScript. With the custom ops a matrix's fixed arrays are uploaded once and stay
// resident with it (resident-arrays.ts); TensorFlow's stock sparse ops get their coordinates per call.

const fixedSpmmOps = new WeakMap<SparseMatrix, (x: tf.Tensor2D) => tf.Tensor2D>();

/** (row, col) of every entry, [nnz, 2], for TensorFlow's sparse ops. */
function coordinatesTensor(pattern: SparseMatrix): tf.Tensor2D {
  return tf.tensor2d(pattern.coordinatePairs, [pattern.nnz, 2], 'int32');
}

/**
 * op(A) x for A with `pattern`'s structure and the given values: the custom op SgfdCsrMatMul on the CSR
 * arrays (the adjoint on the transposed structure, its values permuted by a gather), else TensorFlow's
 * sparse-dense product on COO coordinates. Call inside a tidy.
 */
function product(pattern: SparseMatrix, values: tf.Tensor1D, x: tf.Tensor2D, adjoint: boolean): tf.Tensor2D {
  if (!customOpsAvailable()) {
    return sparseDenseMatMul(coordinatesTensor(pattern), values, [pattern.nRows, pattern.nCols], x, adjoint);
  }
  if (!adjoint) return csrMatMul(pattern.indptr, pattern.indices, values, x);
  const t = pattern.transpose();
  return csrMatMul(t.indptr, t.indices, gatherResident(values, pattern.transposePermutation), x);
}

/** values[order] for a fixed order kept resident (call inside a tidy). */
function gatherResident(values: tf.Tensor1D, order: Int32Array): tf.Tensor1D {
  const attrs = {
    Tparams: { type: 'float32' },
    Tindices: { type: 'int32' },
    Taxis: { type: 'int32' },
    batch_dims: { int: 0 },
  };
  return runNativeOp('GatherV2', attrs, [values, residentArray(order), tf.scalar(0, 'int32')]) as tf.Tensor1D;
}

/** A x for a matrix with fixed values; the adjoint uses the transpose's own values, so no gather. */
function fixedProduct(a: SparseMatrix, x: tf.Tensor2D, adjoint: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    if (!customOpsAvailable()) return product(a, tf.tensor1d(a.requireValues('spmm')), x, adjoint);
    const m = adjoint ? a.transpose() : a;
    return csrMatMul(m.indptr, m.indices, m.requireValues('spmm'), x);
  });
}

/**
 * s[p] = <a[rows[p]], b[cols[p]]>: the custom op SgfdSampledDots in one pass over the entries (GRCN's edge
 * ops: 41k x 64 in about a tenth of the gathers' time), else gathers, a product and a sum. Called only where
 * a custom gradient stands for it, so it need not be differentiable.
 */
function gatheredDots(pattern: SparseMatrix, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  if (customOpsAvailable()) return sampledDots(a, b, pattern.rows, pattern.indices);
  return tf.tidy(() => {
    const rows = tf.tensor1d(pattern.rows, 'int32');
    const cols = tf.tensor1d(pattern.indices, 'int32');
    return tf.sum(tf.mul(tf.gather(a, rows), tf.gather(b, cols)), 1) as tf.Tensor1D;
  });
}

export const nativeSparseOps: SparseOps = {
  /** The product with the matrix's values uploaded per call; the gradient is the adjoint product. */
  spmm(a, x) {
    let op = fixedSpmmOps.get(a);
    if (!op) {
      a.requireValues('spmm');
      op = tf.customGrad((...args: GradInputs) => {
        const d = args[0] as tf.Tensor2D;
        return {
          value: fixedProduct(a, d, false),
          gradFunc: (dy: tf.Tensor) => fixedProduct(a, dy as tf.Tensor2D, true),
        };
      }) as (x: tf.Tensor2D) => tf.Tensor2D;
      fixedSpmmOps.set(a, op);
    }
    return op(x);
  },

  /** The sparse product forward and (adjoint) backward; d/dv by sampled dots. */
  weightedSpmm(pattern, values, x) {
    const op = tf.customGrad((...args: GradInputs) => {
      const [v, xt] = args as [tf.Tensor1D, tf.Tensor2D];
      (args[2] as tf.GradSaveFunc)([v, xt]);
      return {
        value: tf.tidy(() => product(pattern, v, xt, false)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sv, sx] = saved as [tf.Tensor1D, tf.Tensor2D];
          return [
            gatheredDots(pattern, dy as tf.Tensor2D, sx),
            tf.tidy(() => product(pattern, sv, dy as tf.Tensor2D, true)),
          ];
        },
      };
    });
    return op(values, x) as tf.Tensor2D;
  },

  /**
   * Gathered dots forward, with the gradients as two sparse products (da = S b, db = S^T a for S the
   * pattern with values dy) instead of the gather gradients' broadcast products and segment sums.
   */
  edgeDots(pattern, a, b) {
    const op = tf.customGrad((...args: GradInputs) => {
      const [at, bt] = args as [tf.Tensor2D, tf.Tensor2D];
      (args[2] as tf.GradSaveFunc)([at, bt]);
      return {
        value: gatheredDots(pattern, at, bt),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
            return [product(pattern, dy as tf.Tensor1D, sb, false), product(pattern, dy as tf.Tensor1D, sa, true)];
          }),
      };
    });
    return op(a, b) as tf.Tensor1D;
  },

  /**
   * The custom ops SgfdSegmentSoftmax and its gradient, one pass per row. Without them: the row maximum is
   * subtracted for range only; softmax does not depend on it, so it is taken as a constant (TensorFlow's
   * segment max, outside the tape) and the gradient is exact.
   */
  segmentSoftmax(pattern, scores) {
    return tf.tidy(() => {
      if (customOpsAvailable()) return segmentSoftmaxByRows(scores, pattern.indptr);
      const rows = tf.tensor1d(pattern.rows, 'int32');
      const rowMax = unsortedSegmentMax(scores, rows, pattern.nRows);
      const e = tf.exp(tf.sub(scores, tf.gather(rowMax, rows)));
      const sums = tf.unsortedSegmentSum(e, rows, pattern.nRows);
      return tf.div(e, tf.gather(sums, rows)) as tf.Tensor1D;
    });
  },
};
