import { tf } from '../tf';
import type { SparseKernels } from '../wasm/sparse-kernels';
import { permuted } from './csr';
import type { GradInputs, SparseOps } from './op-set';
import type { SparseMatrix } from './sparse-matrix';

// The sparse ops off the native engine: each is one fused pass over the entries, forward and backward, in
// place of gather + multiply + segment-sum chains, through the array kernels it is given (the WebAssembly
// SIMD kernels, or the JavaScript loops that are their reference). Tensors come to JavaScript memory and
// the results go back.

function floats(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** The sparse ops over typed arrays, computed by `kernels`. */
export function arraySparseOps(kernels: SparseKernels): SparseOps {
  const spmmOps = new WeakMap<SparseMatrix, (x: tf.Tensor2D) => tf.Tensor2D>();

  /** A x for A = `matrix` with the given values. */
  function product(matrix: SparseMatrix, values: Float32Array, x: Float32Array, dim: number): Float32Array {
    return kernels.spmm(matrix.indptr, matrix.indices, values, x, dim, matrix.nRows);
  }

  /** A^T x for A = `matrix` with the given values, through the transpose kept with the matrix. */
  function transposedProduct(matrix: SparseMatrix, values: Float32Array, x: Float32Array, dim: number): Float32Array {
    return product(matrix.transpose(), permuted(values, matrix.transposePermutation), x, dim);
  }

  const ops: SparseOps = {
    spmm(a, x) {
      let op = spmmOps.get(a);
      if (!op) {
        const values = a.requireValues('spmm');
        op = tf.customGrad((...args: GradInputs) => {
          const d = args[0] as tf.Tensor2D;
          const dim = d.shape[1];
          return {
            value: tf.tensor2d(product(a, values, floats(d), dim), [a.nRows, dim]),
            gradFunc: (dy: tf.Tensor) => ops.spmm(a.transpose(), dy as tf.Tensor2D),
          };
        }) as (x: tf.Tensor2D) => tf.Tensor2D;
        spmmOps.set(a, op);
      }
      return op(x);
    },

    weightedSpmm(pattern, values, x) {
      const op = tf.customGrad((...args: GradInputs) => {
        const v = floats(args[0] as tf.Tensor);
        const xt = args[1] as tf.Tensor2D;
        const dim = xt.shape[1];
        const xv = floats(xt);
        return {
          value: tf.tensor2d(product(pattern, v, xv, dim), [pattern.nRows, dim]),
          gradFunc: (dy: tf.Tensor) => {
            const g = floats(dy);
            const dv = kernels.sddmm(pattern.rows, pattern.indices, g, xv, dim);
            const dx = transposedProduct(pattern, v, g, dim);
            return [tf.tensor1d(dv), tf.tensor2d(dx, [pattern.nCols, dim])];
          },
        };
      });
      return op(values, x) as tf.Tensor2D;
    },

    edgeDots(pattern, a, b) {
      const op = tf.customGrad((...args: GradInputs) => {
        const dim = (args[0] as tf.Tensor2D).shape[1];
        const av = floats(args[0] as tf.Tensor);
        const bv = floats(args[1] as tf.Tensor);
        return {
          value: tf.tensor1d(kernels.sddmm(pattern.rows, pattern.indices, av, bv, dim)),
          gradFunc: (dy: tf.Tensor) => {
            const g = floats(dy);
            const da = product(pattern, g, bv, dim);
            const db = transposedProduct(pattern, g, av, dim);
            return [tf.tensor2d(da, [pattern.nRows, dim]), tf.tensor2d(db, [pattern.nCols, dim])];
          },
        };
      });
      return op(a, b) as tf.Tensor1D;
    },

    segmentSoftmax(pattern, scores) {
      const { indptr, nRows } = pattern;
      const op = tf.customGrad((...args: GradInputs) => {
        const s = floats(args[0] as tf.Tensor);
        const alpha = rowSoftmax(indptr, nRows, s);
        return {
          value: tf.tensor1d(alpha),
          gradFunc: (dy: tf.Tensor) => [tf.tensor1d(rowSoftmaxGradient(indptr, nRows, alpha, floats(dy)))],
        };
      });
      return op(scores) as tf.Tensor1D;
    },
  };
  return ops;
}

/** Softmax of s within each CSR row, less the row's maximum for range. */
function rowSoftmax(indptr: Int32Array, nRows: number, s: Float32Array): Float32Array {
  const alpha = new Float32Array(s.length);
  for (let r = 0; r < nRows; r++) {
    const start = indptr[r];
    const end = indptr[r + 1];
    if (start === end) continue;
    let max = -Infinity;
    for (let p = start; p < end; p++) if (s[p] > max) max = s[p];
    let sum = 0;
    for (let p = start; p < end; p++) {
      const e = Math.exp(s[p] - max);
      alpha[p] = e;
      sum += e;
    }
    for (let p = start; p < end; p++) alpha[p] /= sum;
  }
  return alpha;
}

/** ds[p] = alpha[p] (g[p] - <alpha, g> over p's row): the softmax's vector-Jacobian product. */
function rowSoftmaxGradient(indptr: Int32Array, nRows: number, alpha: Float32Array, g: Float32Array): Float32Array {
  const ds = new Float32Array(alpha.length);
  for (let r = 0; r < nRows; r++) {
    let dot = 0;
    for (let p = indptr[r]; p < indptr[r + 1]; p++) dot += alpha[p] * g[p];
    for (let p = indptr[r]; p < indptr[r + 1]; p++) ds[p] = alpha[p] * (g[p] - dot);
  }
  return ds;
}
