import { sparseOps } from '../kernels';
import { tf } from '../tf';
import type { SparseMatrix } from './sparse-matrix';

// The differentiable sparse ops, for fixed and learned edge weights: the message passing of the graph
// backbones (LightGCN products over fixed graphs, GRCN's attention, LATTICE's learned item graph). Each
// checks its shapes here and runs the kernels `sparseOps` picks for the active backend.

function checkRows(what: string, x: tf.Tensor, rows: number): void {
  if (x.rank !== 2 || x.shape[0] !== rows) throw new RangeError(`${what}: expected [${rows}, d], got [${x.shape}]`);
}

function checkValues(what: string, v: tf.Tensor, pattern: SparseMatrix): void {
  if (v.rank !== 1 || v.shape[0] !== pattern.nnz)
    throw new RangeError(`${what}: expected ${pattern.nnz} values, got [${v.shape}]`);
}

/** A x for a sparse A [n, m] with values and dense x [m, d], differentiable in x (the gradient is A^T dy). */
export function spmm(a: SparseMatrix, x: tf.Tensor2D): tf.Tensor2D {
  checkRows('spmm', x, a.nCols);
  return sparseOps().spmm(a, x);
}

/** A x for the sparse A with the given pattern and values, differentiable in both. */
export function weightedSpmm(pattern: SparseMatrix, values: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  checkValues('weightedSpmm', values, pattern);
  checkRows('weightedSpmm', x, pattern.nCols);
  return sparseOps().weightedSpmm(pattern, values, x);
}

/** The dot product of a[row] and b[col] at every entry of the pattern, differentiable in a and b. */
export function edgeDots(pattern: SparseMatrix, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  checkRows('edgeDots (rows)', a, pattern.nRows);
  checkRows('edgeDots (cols)', b, pattern.nCols);
  if (a.shape[1] !== b.shape[1]) throw new RangeError(`edgeDots: widths differ (${a.shape[1]} vs ${b.shape[1]})`);
  return sparseOps().edgeDots(pattern, a, b);
}

/** Softmax of the entries of each row (torch_geometric.utils.softmax grouped by row); empty rows stay empty. */
export function segmentSoftmax(pattern: SparseMatrix, scores: tf.Tensor1D): tf.Tensor1D {
  checkValues('segmentSoftmax', scores, pattern);
  return sparseOps().segmentSoftmax(pattern, scores);
}

/** Sum of each row's values. */
export function rowSums(pattern: SparseMatrix, values: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.unsortedSegmentSum(values, tf.tensor1d(pattern.rows, 'int32'), pattern.nRows));
}

/**
 * D^-1/2 A D^-1/2 with D the row sums of A (LATTICE's compute_normalized_laplacian), differentiable in
 * the values. Rows whose sum is not positive get 0 in D^-1/2 (torch gives inf -> 0 for zero sums, NaN for
 * negative ones; a learned cosine graph can have those).
 */
export function symmetricNormalize(pattern: SparseMatrix, values: tf.Tensor1D): tf.Tensor1D {
  if (pattern.nRows !== pattern.nCols) throw new RangeError('symmetricNormalize needs a square pattern');
  return tf.tidy(() => {
    const sums = rowSums(pattern, values);
    // Which rows count: 1 where the sum is positive, on the device; step's gradient is zero, so the mask is a
    // constant of the step.
    const positive = tf.step(sums);
    const safe = tf.add(tf.mul(sums, positive), tf.sub(1, positive));
    const dInvSqrt = tf.mul(tf.rsqrt(safe), positive);
    const rows = tf.gather(dInvSqrt, tf.tensor1d(pattern.rows, 'int32'));
    const cols = tf.gather(dInvSqrt, tf.tensor1d(pattern.indices, 'int32'));
    return tf.mul(values, tf.mul(rows, cols)) as tf.Tensor1D;
  });
}
