import type { SparseKernels } from '../wasm/sparse-kernels';
import type { CsrStructure } from './csr';

// The JavaScript loops of the sparse products: the tested reference of the WebAssembly SIMD kernels, and
// the kernels themselves until those are loaded (or where they are turned off).

/**
 * out[nRows, dim] = A x, x row-major [nCols, dim]. Eight output columns at a time in local
 * accumulators (in double precision), which V8 runs much faster than accumulating into `out`.
 * Single-threaded on purpose: splitting rows with a worker thread over shared memory gave no gain on two
 * cores under the load of the rest of the pipeline.
 */
export function csrTimesDense(
  a: CsrStructure & { values: ArrayLike<number>; nRows: number },
  x: ArrayLike<number>,
  dim: number,
  out: { [index: number]: number },
): void {
  const { indptr, indices, values } = a;
  for (let r = 0; r < a.nRows; r++) {
    const o = r * dim;
    const p0 = indptr[r];
    const p1 = indptr[r + 1];
    let j = 0;
    for (; j + 8 <= dim; j += 8) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        s4 = 0,
        s5 = 0,
        s6 = 0,
        s7 = 0;
      for (let p = p0; p < p1; p++) {
        const v = values[p];
        const xs = indices[p] * dim + j;
        s0 += v * x[xs];
        s1 += v * x[xs + 1];
        s2 += v * x[xs + 2];
        s3 += v * x[xs + 3];
        s4 += v * x[xs + 4];
        s5 += v * x[xs + 5];
        s6 += v * x[xs + 6];
        s7 += v * x[xs + 7];
      }
      out[o + j] = s0;
      out[o + j + 1] = s1;
      out[o + j + 2] = s2;
      out[o + j + 3] = s3;
      out[o + j + 4] = s4;
      out[o + j + 5] = s5;
      out[o + j + 6] = s6;
      out[o + j + 7] = s7;
    }
    for (; j < dim; j++) {
      let sum = 0;
      for (let p = p0; p < p1; p++) sum += values[p] * x[indices[p] * dim + j];
      out[o + j] = sum;
    }
  }
}

/**
 * out[p] = <a[rows[p]], b[cols[p]]> for row-major a and b of `dim` columns (a sampled dense-dense product),
 * in four accumulators.
 */
export function sampledDotsLoop(
  rows: Int32Array,
  cols: Int32Array,
  a: Float32Array,
  b: Float32Array,
  dim: number,
): Float32Array {
  const out = new Float32Array(rows.length);
  const tail = dim - (dim % 4);
  for (let p = 0; p < out.length; p++) {
    const ao = rows[p] * dim;
    const bo = cols[p] * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < tail; j += 4) {
      s0 += a[ao + j] * b[bo + j];
      s1 += a[ao + j + 1] * b[bo + j + 1];
      s2 += a[ao + j + 2] * b[bo + j + 2];
      s3 += a[ao + j + 3] * b[bo + j + 3];
    }
    for (; j < dim; j++) s0 += a[ao + j] * b[bo + j];
    out[p] = s0 + s1 + s2 + s3;
  }
  return out;
}

/** The loops behind the SIMD kernels' interface, so the ops run either through the same calls. */
export const javascriptSparseKernels: SparseKernels = {
  spmm(indptr, indices, values, x, dim, nRows) {
    const out = new Float32Array(nRows * dim);
    csrTimesDense({ indptr, indices, values, nRows }, x, dim, out);
    return out;
  },
  sddmm: sampledDotsLoop,
};
