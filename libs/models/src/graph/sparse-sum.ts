import { sparseFromCoo, type SparseMatrix } from '@sgfd/tensor';

/** sum_t weight_t * matrix_t for sparse matrices of one shape (patterns merged, duplicates summed). */
export function weightedSparseSum(terms: ReadonlyArray<{ matrix: SparseMatrix; weight: number }>): SparseMatrix {
  if (terms.length === 0) throw new RangeError('weightedSparseSum needs at least one term');
  const { nRows, nCols } = terms[0].matrix;
  const nnz = terms.reduce((n, t) => n + t.matrix.nnz, 0);
  const rows = new Int32Array(nnz);
  const cols = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  for (const { matrix, weight } of terms) {
    if (matrix.nRows !== nRows || matrix.nCols !== nCols)
      throw new RangeError('weightedSparseSum: matrices differ in shape');
    for (let r = 0; r < nRows; r++) {
      for (let p = matrix.indptr[r]; p < matrix.indptr[r + 1]; p++) {
        rows[at] = r;
        cols[at] = matrix.indices[p];
        values[at++] = weight * matrix.values[p];
      }
    }
  }
  return sparseFromCoo(rows, cols, values, nRows, nCols);
}
