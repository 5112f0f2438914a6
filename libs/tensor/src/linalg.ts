import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { isNativeBackend, runNativeOp } from './native/native-ops';
import { tf } from './tf';

/**
 * X = A^-1 B for a symmetric positive definite A [n, n] and B [n, k]: TensorFlow's MatrixSolve on the native
 * engine (LU with partial pivoting, float32, every core); elsewhere ml-matrix's Cholesky in float64 (tfjs
 * has no solver). The caller owns the result.
 */
export function solveSpd(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [n, n2] = a.shape;
  if (n !== n2 || b.shape[0] !== n)
    throw new Error(`solveSpd: A must be square and B have as many rows (A ${a.shape}, B ${b.shape})`);
  if (isNativeBackend()) {
    return runNativeOp('MatrixSolve', { T: { type: 'float32' }, adjoint: { bool: false } }, [a, b]) as tf.Tensor2D;
  }
  const k = b.shape[1];
  const rows = (data: Float32Array | Int32Array | Uint8Array, width: number) =>
    Array.from({ length: data.length / width }, (_, r) => Array.from(data.subarray(r * width, (r + 1) * width)));
  const cholesky = new CholeskyDecomposition(new Matrix(rows(a.dataSync() as Float32Array, n)));
  if (!cholesky.isPositiveDefinite()) throw new Error('solveSpd: the matrix is not positive definite');
  const x = cholesky.solve(new Matrix(rows(b.dataSync() as Float32Array, k)));
  return tf.tensor2d(Float32Array.from(x.to1DArray()), [n, k]);
}
