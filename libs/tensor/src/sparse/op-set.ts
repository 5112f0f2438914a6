import type { tf } from '../tf';
import type { SparseMatrix } from './sparse-matrix';

/**
 * The sparse ops one backend runs (`sparseOps` in kernels/index.ts picks the set): products with a sparse
 * matrix whose values are fixed or learned, the sampled dense-dense product and the per-row softmax. Each
 * is differentiable in its tensor inputs; the shapes are checked by the public ops (ops.ts).
 */
export interface SparseOps {
  /** A x with A's own (fixed) values, differentiable in x: the gradient is A^T dy. */
  spmm(a: SparseMatrix, x: tf.Tensor2D): tf.Tensor2D;
  /** A x with A's values a tensor, differentiable in both: d/dx = A^T dy, d/dv[p] = <dy[row p], x[col p]>. */
  weightedSpmm(pattern: SparseMatrix, values: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D;
  /** s[p] = <a[row p], b[col p]> at every entry (a sampled dense-dense product), never forming a b^T. */
  edgeDots(pattern: SparseMatrix, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D;
  /** Softmax of the entries of each row; empty rows stay empty. */
  segmentSoftmax(pattern: SparseMatrix, scores: tf.Tensor1D): tf.Tensor1D;
}

export type GradInputs = Array<tf.Tensor | tf.GradSaveFunc>;
