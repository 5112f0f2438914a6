import { countingOrder, csrProblem, transposeStructure } from '@sgfd/tensor';

/**
 * The structure (no values) of a sparse matrix in CSR order, with what the edge ops need beside it: the row
 * of every entry, and the transposed structure with the permutation that maps each transposed entry to its
 * entry here. Values live in tensors, so they can be learned (attention weights, learned item graphs).
 */
export class SparsePattern {
  /** Entries of row r are positions indptr[r] .. indptr[r + 1] - 1, columns sorted. */
  readonly indptr: Int32Array;
  readonly cols: Int32Array;
  /** Row of each entry. */
  readonly rows: Int32Array;
  /** CSR structure of the transpose; tPerm[q] is the entry here that transposed entry q is. */
  readonly tIndptr: Int32Array;
  readonly tCols: Int32Array;
  readonly tPerm: Int32Array;

  private constructor(
    readonly nRows: number,
    readonly nCols: number,
    indptr: Int32Array,
    cols: Int32Array,
  ) {
    this.indptr = indptr;
    this.cols = cols;
    const nnz = cols.length;
    this.rows = new Int32Array(nnz);
    for (let r = 0; r < nRows; r++) this.rows.fill(r, indptr[r], indptr[r + 1]);
    const t = transposeStructure(indptr, cols, nRows, nCols);
    this.tIndptr = t.indptr;
    this.tCols = t.indices;
    this.tPerm = t.perm;
  }

  get nnz(): number {
    return this.cols.length;
  }

  /**
   * The pattern of the given coordinates (duplicates merged), and for each input coordinate the entry it
   * landed in: summing values by `slotOf` gives the matrix of the summed coordinates.
   */
  static fromCoo(
    rows: ArrayLike<number>,
    cols: ArrayLike<number>,
    nRows: number,
    nCols: number,
  ): { pattern: SparsePattern; slotOf: Int32Array } {
    const n = rows.length;
    if (cols.length !== n) throw new RangeError(`SparsePattern.fromCoo: ${n} rows but ${cols.length} cols`);
    for (let p = 0; p < n; p++) {
      if (!(rows[p] >= 0 && rows[p] < nRows))
        throw new RangeError(`SparsePattern.fromCoo: row ${rows[p]} at ${p} is not in [0, ${nRows})`);
      if (!(cols[p] >= 0 && cols[p] < nCols))
        throw new RangeError(`SparsePattern.fromCoo: col ${cols[p]} at ${p} is not in [0, ${nCols})`);
    }
    // Counting sort by column, then a stable one by row: entries sorted by (row, col).
    const byCol = countingOrder(cols, nCols, null);
    const order = countingOrder(rows, nRows, byCol);
    const indptr = new Int32Array(nRows + 1);
    const out = new Int32Array(n);
    const slotOf = new Int32Array(n);
    let write = 0;
    for (let q = 0; q < n; q++) {
      const p = order[q];
      const r = rows[p];
      if (q > 0 && rows[order[q - 1]] === r && out[write - 1] === cols[p]) {
        slotOf[p] = write - 1;
        continue;
      }
      out[write] = cols[p];
      slotOf[p] = write;
      indptr[r + 1]++;
      write++;
    }
    for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r];
    return { pattern: new SparsePattern(nRows, nCols, indptr, out.slice(0, write)), slotOf };
  }

  /** Wraps a CSR structure (columns sorted within rows, as `fromCoo` and SparseMatrix make them). */
  static fromCsr(indptr: Int32Array, cols: Int32Array, nRows: number, nCols: number): SparsePattern {
    const problem = csrProblem(indptr, cols, nRows, nCols);
    if (problem) throw new RangeError(`CSR ${problem.message}`);
    return new SparsePattern(nRows, nCols, indptr, cols);
  }
}
