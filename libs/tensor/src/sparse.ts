import { coordinatePairs, isNativeBackend, sparseDenseMatMul } from './native/native-ops';
import { tf } from './tf';
import { sparseKernels } from './wasm/sparse-kernels';

/** The structure of compressed sparse rows: the entries of row i are indices[indptr[i] .. indptr[i + 1]). */
export interface CsrStructure {
  indptr: Int32Array;
  indices: Int32Array;
}

/** A CSR matrix with its shape and one value per entry. */
export interface Csr extends CsrStructure {
  values: Float32Array;
  nRows: number;
  nCols: number;
}

/**
 * A CSR matrix with its transpose kept beside it, so the gradient of `spmm` (a product with the
 * transpose) needs no conversion at training time. Column indices are sorted within each row.
 */
export class SparseMatrix implements Csr {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly nRows: number;
  readonly nCols: number;
  private readonly transposed: SparseMatrix;

  private constructor(csr: Csr, transposed?: SparseMatrix) {
    this.indptr = csr.indptr;
    this.indices = csr.indices;
    this.values = csr.values;
    this.nRows = csr.nRows;
    this.nCols = csr.nCols;
    this.transposed = transposed ?? new SparseMatrix(transposeCsr(csr), this);
  }

  /** Wraps a valid CSR (see `sparseFromCoo` to build one); checks its structure. */
  static fromCsr(csr: Csr): SparseMatrix {
    checkCsr(csr);
    return new SparseMatrix(csr);
  }

  get nnz(): number {
    return this.indices.length;
  }

  /** The transpose, computed once when the matrix was built. */
  transpose(): SparseMatrix {
    return this.transposed;
  }

  /** Row-major dense copy (for tests and small matrices). */
  toDense(): Float32Array {
    const out = new Float32Array(this.nRows * this.nCols);
    for (let i = 0; i < this.nRows; i++) {
      for (let p = this.indptr[i]; p < this.indptr[i + 1]; p++) out[i * this.nCols + this.indices[p]] += this.values[p];
    }
    return out;
  }
}

/**
 * Builds a CSR matrix from coordinates (row, col, value); duplicate coordinates are summed, as
 * scipy.sparse does. Two stable counting sorts (by column, then by row) give sorted rows in O(nnz + n).
 */
export function sparseFromCoo(
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  values: ArrayLike<number>,
  nRows: number,
  nCols: number,
): SparseMatrix {
  const n = rows.length;
  if (cols.length !== n || values.length !== n) {
    throw new RangeError(
      `sparseFromCoo: rows, cols and values differ in length (${n}, ${cols.length}, ${values.length})`,
    );
  }
  for (let p = 0; p < n; p++) {
    if (!(rows[p] >= 0 && rows[p] < nRows && Number.isInteger(rows[p])))
      throw new RangeError(`sparseFromCoo: row ${rows[p]} at ${p} is not in [0, ${nRows})`);
    if (!(cols[p] >= 0 && cols[p] < nCols && Number.isInteger(cols[p])))
      throw new RangeError(`sparseFromCoo: col ${cols[p]} at ${p} is not in [0, ${nCols})`);
  }
  const byCol = countingOrder(cols, nCols, null);
  const order = countingOrder(rows, nRows, byCol);
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(n);
  const vals = new Float32Array(n);
  let write = 0;
  for (let r = 0, q = 0; r < nRows; r++) {
    const rowStart = write;
    while (q < n && rows[order[q]] === r) {
      const p = order[q++];
      if (write > rowStart && indices[write - 1] === cols[p]) vals[write - 1] += values[p];
      else {
        indices[write] = cols[p];
        vals[write++] = values[p];
      }
    }
    indptr[r + 1] = write;
  }
  return SparseMatrix.fromCsr({ indptr, indices: indices.slice(0, write), values: vals.slice(0, write), nRows, nCols });
}

/** Positions 0..n-1 stably sorted by key (keys in [0, nKeys)), visiting them in `within` order if given. */
export function countingOrder(keys: ArrayLike<number>, nKeys: number, within: Int32Array | null): Int32Array {
  const n = keys.length;
  const start = new Int32Array(nKeys + 1);
  for (let p = 0; p < n; p++) start[keys[p] + 1]++;
  for (let k = 0; k < nKeys; k++) start[k + 1] += start[k];
  const order = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    const p = within ? within[q] : q;
    order[start[keys[p]]++] = p;
  }
  return order;
}

/** The first way `indptr`/`indices` fail to be the CSR structure of an nRows x nCols matrix, or null. */
export interface CsrProblem {
  message: string;
  field: 'indptr' | 'indices';
  /** The row (indptr) or the entry (indices) at fault. */
  row?: number;
  expected: string;
  found: string;
}

/**
 * The one structure check of a CSR matrix (this lib's sparse products, the graph patterns, the metrics'
 * user-item lists): callers turn a problem into their own error type.
 */
export function csrProblem(indptr: Int32Array, indices: Int32Array, nRows: number, nCols: number): CsrProblem | null {
  if (indptr.length !== nRows + 1 || indptr[0] !== 0 || indptr[nRows] !== indices.length) {
    return {
      message: `arrays do not describe a ${nRows} x ${nCols} matrix with ${indices.length} entries (not a CSR over ${nRows} rows)`,
      field: 'indptr',
      expected: `length ${nRows + 1}, from 0 to ${indices.length}`,
      found: `length ${indptr.length}, from ${indptr[0]} to ${indptr[indptr.length - 1]}`,
    };
  }
  for (let r = 0; r < nRows; r++) {
    if (indptr[r + 1] < indptr[r]) {
      return {
        message: `indptr decreases at row ${r}`,
        field: 'indptr',
        row: r + 1,
        expected: 'non-decreasing offsets',
        found: `${indptr[r]} then ${indptr[r + 1]}`,
      };
    }
  }
  for (let p = 0; p < indices.length; p++) {
    if (!(indices[p] >= 0 && indices[p] < nCols)) {
      return {
        message: `column ${indices[p]} at entry ${p} is not in [0, ${nCols})`,
        field: 'indices',
        row: p,
        expected: `0 <= id < ${nCols}`,
        found: `${indices[p]}`,
      };
    }
  }
  return null;
}

/**
 * The transpose's structure, and for each of its entries the entry of the original it is (so values, fixed
 * or learned, are permuted by `perm`). Rows are visited in order, so each transposed row comes out sorted.
 */
export function transposeStructure(
  indptr: Int32Array,
  indices: Int32Array,
  nRows: number,
  nCols: number,
): { indptr: Int32Array; indices: Int32Array; perm: Int32Array } {
  const nnz = indices.length;
  const tIndptr = new Int32Array(nCols + 1);
  for (let p = 0; p < nnz; p++) tIndptr[indices[p] + 1]++;
  for (let c = 0; c < nCols; c++) tIndptr[c + 1] += tIndptr[c];
  const cursor = tIndptr.slice(0, nCols);
  const tIndices = new Int32Array(nnz);
  const perm = new Int32Array(nnz);
  for (let r = 0; r < nRows; r++) {
    for (let p = indptr[r]; p < indptr[r + 1]; p++) {
      const q = cursor[indices[p]]++;
      tIndices[q] = r;
      perm[q] = p;
    }
  }
  return { indptr: tIndptr, indices: tIndices, perm };
}

function transposeCsr(csr: Csr): Csr {
  const t = transposeStructure(csr.indptr, csr.indices, csr.nRows, csr.nCols);
  const values = new Float32Array(t.perm.length);
  for (let q = 0; q < values.length; q++) values[q] = csr.values[t.perm[q]];
  return { indptr: t.indptr, indices: t.indices, values, nRows: csr.nCols, nCols: csr.nRows };
}

function checkCsr(csr: Csr): void {
  const problem = csrProblem(csr.indptr, csr.indices, csr.nRows, csr.nCols);
  if (problem) throw new RangeError(`CSR ${problem.message}`);
  if (csr.values.length !== csr.indices.length)
    throw new RangeError(`CSR has ${csr.indices.length} entries but ${csr.values.length} values`);
}

/**
 * out[nRows, dim] = A x, x row-major [nCols, dim]. Eight output columns at a time in local
 * accumulators (in double precision), which V8 runs much faster than accumulating into `out`.
 * Single-threaded on purpose: splitting rows with a worker thread over shared memory gave no gain on two
 * cores under the load of the rest of the pipeline.
 */
export function csrTimesDense(a: Csr, x: ArrayLike<number>, dim: number, out: { [index: number]: number }): void {
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

const spmmOps = new WeakMap<SparseMatrix, (x: tf.Tensor2D) => tf.Tensor2D>();
const coordinates = new WeakMap<SparseMatrix, Int32Array>();

/** (row, col) of every entry, row-major [nnz, 2], computed once per matrix. */
function coordinatesOf(a: SparseMatrix): Int32Array {
  let coords = coordinates.get(a);
  if (!coords) {
    const rows = new Int32Array(a.nnz);
    for (let r = 0; r < a.nRows; r++) rows.fill(r, a.indptr[r], a.indptr[r + 1]);
    coords = coordinatePairs(rows, a.indices);
    coordinates.set(a, coords);
  }
  return coords;
}

/**
 * op(A) x on the tensorflow backend: TensorFlow's sparse-dense product, with no round trip of x through
 * JavaScript. The coordinates are uploaded per call (a few hundred microseconds) so that no tensor
 * outlives the step.
 */
function nativeSpmm(a: SparseMatrix, x: tf.Tensor2D, adjoint: boolean): tf.Tensor2D {
  return tf.tidy(() =>
    sparseDenseMatMul(
      tf.tensor2d(coordinatesOf(a), [a.nnz, 2], 'int32'),
      tf.tensor1d(a.values),
      [a.nRows, a.nCols],
      x,
      adjoint,
    ),
  );
}

/**
 * A x for a CSR A and a row-major x [nCols, dim], on the wasm and cpu backends: the WebAssembly SIMD kernel
 * (wasm/sparse-kernels.wat.ts) once `initBackend` has loaded it, else `csrTimesDense`, the JavaScript loop
 * that is the kernel's tested reference. The one place that picks the CSR product's kernel off the native
 * engine (the fixed graphs' `spmm` here, the learned-weight ops of the graph backbones).
 */
export function csrProduct(a: Csr, x: Float32Array, dim: number): Float32Array {
  const simd = sparseKernels();
  if (simd) return simd.spmm(a.indptr, a.indices, a.values, x, dim, a.nRows);
  const out = new Float32Array(a.nRows * dim);
  csrTimesDense(a, x, dim, out);
  return out;
}

/**
 * out[p] = <a[rows[p]], b[cols[p]]> for row-major a and b of `dim` columns (a sampled dense-dense product):
 * the WebAssembly SIMD kernel once loaded, else four JavaScript accumulators.
 */
export function sampledDots(
  rows: Int32Array,
  cols: Int32Array,
  a: Float32Array,
  b: Float32Array,
  dim: number,
): Float32Array {
  const simd = sparseKernels();
  if (simd) return simd.sddmm(rows, cols, a, b, dim);
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

/** The product off the native engine: x comes to JavaScript memory and the result goes back. */
function jsSpmm(a: SparseMatrix, x: tf.Tensor2D): tf.Tensor2D {
  const dim = x.shape[1];
  return tf.tensor2d(csrProduct(a, x.dataSync() as Float32Array, dim), [a.nRows, dim]);
}

/**
 * A x for a sparse A [n, m] and dense x [m, d], differentiable in x: the gradient is A^T dy. One fused op
 * in place of gather + multiply + segment sum: TensorFlow's sparse product on the native backend (the
 * kernels bench compares it with the gather chain forward and backward), `csrProduct` elsewhere, whose
 * gradient uses the transpose precomputed with the matrix.
 */
export function spmm(a: SparseMatrix, x: tf.Tensor2D): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[0] !== a.nCols) {
    throw new RangeError(
      `spmm: dense operand of shape [${x.shape}] does not match a ${a.nRows} x ${a.nCols} sparse matrix`,
    );
  }
  let op = spmmOps.get(a);
  if (!op) {
    op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const d = args[0] as tf.Tensor2D;
      if (isNativeBackend()) {
        return { value: nativeSpmm(a, d, false), gradFunc: (dy: tf.Tensor) => nativeSpmm(a, dy as tf.Tensor2D, true) };
      }
      return { value: jsSpmm(a, d), gradFunc: (dy: tf.Tensor) => spmm(a.transpose(), dy as tf.Tensor2D) };
    }) as (x: tf.Tensor2D) => tf.Tensor2D;
    spmmOps.set(a, op);
  }
  return op(x);
}
