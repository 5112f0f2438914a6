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
    const matrixValues = matrix.requireValues('weightedSparseSum');
    rows.set(matrix.rows, at);
    cols.set(matrix.indices, at);
    for (let p = 0; p < matrix.nnz; p++) values[at + p] = weight * matrixValues[p];
    at += matrix.nnz;
  }
  return sparseFromCoo(rows, cols, values, nRows, nCols);
}
