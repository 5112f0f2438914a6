import { csrProduct, isNativeBackend, sampledDots, tf } from '@sgfd/tensor';
import { nativeEdgeDots, nativeSegmentSoftmax, nativeWeightedSpmm } from './edge-ops-native';
import type { SparsePattern } from './pattern';

// Differentiable ops on a fixed sparsity pattern whose values are tensors: the message passing of graph
// backbones with learned edge weights (GRCN's attention, LATTICE's learned item graph). On the tensorflow
// backend they run TensorFlow's kernels (edge-ops-native.ts); elsewhere each is one fused pass over the
// entries, forward and backward, in place of gather + multiply + segment-sum chains: the tensor lib's
// `csrProduct` and `sampledDots` (WebAssembly SIMD once initBackend loaded it, else JavaScript loops).

type GradInputs = Array<tf.Tensor | tf.GradSaveFunc>;

function floats(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function checkRows(what: string, x: tf.Tensor, rows: number): void {
  if (x.rank !== 2 || x.shape[0] !== rows) throw new RangeError(`${what}: expected [${rows}, d], got [${x.shape}]`);
}

function checkValues(what: string, v: tf.Tensor, pattern: SparsePattern): void {
  if (v.rank !== 1 || v.shape[0] !== pattern.nnz)
    throw new RangeError(`${what}: expected ${pattern.nnz} values, got [${v.shape}]`);
}

/** out[r] = sum over entries q of row r of w[q] * x[cols[q]] (the tensor lib's CSR product). */
function rowGather(
  indptr: Int32Array,
  cols: Int32Array,
  w: Float32Array,
  x: Float32Array,
  dim: number,
  rows: number,
): Float32Array {
  return csrProduct({ indptr, indices: cols, values: w, nRows: rows, nCols: x.length / dim }, x, dim);
}

/** The same product with the transposed pattern: entry q of the transpose carries w[tPerm[q]]. */
function transposedRowGather(pattern: SparsePattern, w: Float32Array, x: Float32Array, dim: number): Float32Array {
  const permuted = new Float32Array(w.length);
  for (let q = 0; q < permuted.length; q++) permuted[q] = w[pattern.tPerm[q]];
  return rowGather(pattern.tIndptr, pattern.tCols, permuted, x, dim, pattern.nCols);
}

/** s[p] = <a[rows[p]], b[cols[p]]> (the tensor lib's sampled product). */
function dotsOf(pattern: SparsePattern, a: Float32Array, b: Float32Array, dim: number): Float32Array {
  return sampledDots(pattern.rows, pattern.cols, a, b, dim);
}

/**
 * A x for the sparse A with the given pattern and values, differentiable in both: d/dx = A^T dy,
 * d/dv[p] = <dy[row p], x[col p]>.
 */
export function weightedSpmm(pattern: SparsePattern, values: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  checkValues('weightedSpmm', values, pattern);
  checkRows('weightedSpmm', x, pattern.nCols);
  if (isNativeBackend()) return nativeWeightedSpmm(pattern, values, x);
  const op = tf.customGrad((...args: GradInputs) => {
    const v = floats(args[0] as tf.Tensor);
    const xt = args[1] as tf.Tensor2D;
    const dim = xt.shape[1];
    const xv = floats(xt);
    const out = rowGather(pattern.indptr, pattern.cols, v, xv, dim, pattern.nRows);
    return {
      value: tf.tensor2d(out, [pattern.nRows, dim]),
      gradFunc: (dy: tf.Tensor) => {
        const g = floats(dy);
        const dv = dotsOf(pattern, g, xv, dim);
        const dx = transposedRowGather(pattern, v, g, dim);
        return [tf.tensor1d(dv), tf.tensor2d(dx, [pattern.nCols, dim])];
      },
    };
  });
  return op(values, x) as tf.Tensor2D;
}

/**
 * The dot product of a[row] and b[col] at every entry of the pattern (a sampled dense-dense product),
 * differentiable in a and b. Never forms the dense a b^T.
 */
export function edgeDots(pattern: SparsePattern, a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  checkRows('edgeDots (rows)', a, pattern.nRows);
  checkRows('edgeDots (cols)', b, pattern.nCols);
  if (a.shape[1] !== b.shape[1]) throw new RangeError(`edgeDots: widths differ (${a.shape[1]} vs ${b.shape[1]})`);
  if (isNativeBackend()) return nativeEdgeDots(pattern, a, b);
  const op = tf.customGrad((...args: GradInputs) => {
    const dim = (args[0] as tf.Tensor2D).shape[1];
    const av = floats(args[0] as tf.Tensor);
    const bv = floats(args[1] as tf.Tensor);
    return {
      value: tf.tensor1d(dotsOf(pattern, av, bv, dim)),
      gradFunc: (dy: tf.Tensor) => {
        const g = floats(dy);
        const da = rowGather(pattern.indptr, pattern.cols, g, bv, dim, pattern.nRows);
        const db = transposedRowGather(pattern, g, av, dim);
        return [tf.tensor2d(da, [pattern.nRows, dim]), tf.tensor2d(db, [pattern.nCols, dim])];
      },
    };
  });
  return op(a, b) as tf.Tensor1D;
}

/** Softmax of the entries of each row (torch_geometric.utils.softmax grouped by row); empty rows stay empty. */
export function segmentSoftmax(pattern: SparsePattern, scores: tf.Tensor1D): tf.Tensor1D {
  checkValues('segmentSoftmax', scores, pattern);
  if (isNativeBackend()) return nativeSegmentSoftmax(pattern, scores);
  const { indptr, nRows } = pattern;
  const op = tf.customGrad((...args: GradInputs) => {
    const s = floats(args[0] as tf.Tensor);
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
    return {
      value: tf.tensor1d(alpha),
      gradFunc: (dy: tf.Tensor) => {
        const g = floats(dy);
        const ds = new Float32Array(s.length);
        for (let r = 0; r < nRows; r++) {
          let dot = 0;
          for (let p = indptr[r]; p < indptr[r + 1]; p++) dot += alpha[p] * g[p];
          for (let p = indptr[r]; p < indptr[r + 1]; p++) ds[p] = alpha[p] * (g[p] - dot);
        }
        return [tf.tensor1d(ds)];
      },
    };
  });
  return op(scores) as tf.Tensor1D;
}

/** Sum of each row's values. */
export function rowSums(pattern: SparsePattern, values: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.unsortedSegmentSum(values, tf.tensor1d(pattern.rows, 'int32'), pattern.nRows));
}

/**
 * D^-1/2 A D^-1/2 with D the row sums of A (LATTICE's compute_normalized_laplacian), differentiable in
 * the values. Rows whose sum is not positive get 0 in D^-1/2 (torch gives inf -> 0 for zero sums, NaN for
 * negative ones; a learned cosine graph can have those).
 */
export function symmetricNormalize(pattern: SparsePattern, values: tf.Tensor1D): tf.Tensor1D {
  if (pattern.nRows !== pattern.nCols) throw new RangeError('symmetricNormalize needs a square pattern');
  return tf.tidy(() => {
    const sums = rowSums(pattern, values);
    // Which rows count is a constant of the step (no gradient through the comparison).
    const positive = tf.tensor1d(Float32Array.from(sums.dataSync(), (s) => (s > 0 ? 1 : 0)));
    const safe = tf.add(tf.mul(sums, positive), tf.sub(1, positive));
    const dInvSqrt = tf.mul(tf.rsqrt(safe), positive);
    const rows = tf.gather(dInvSqrt, tf.tensor1d(pattern.rows, 'int32'));
    const cols = tf.gather(dInvSqrt, tf.tensor1d(pattern.cols, 'int32'));
    return tf.mul(values, tf.mul(rows, cols)) as tf.Tensor1D;
  });
}
