/** The structure of compressed sparse rows: the entries of row i are indices[indptr[i] .. indptr[i + 1]). */
export interface CsrStructure {
  indptr: Int32Array;
  indices: Int32Array;
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
 * The one structure check of a CSR matrix (this lib's sparse matrices, the metrics' user-item lists):
 * callers turn a problem into their own error type.
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

/** The row of every entry of a CSR structure: the one place that expands `indptr` into coordinates. */
export function entryRows(indptr: Int32Array): Int32Array {
  const nRows = indptr.length - 1;
  const rows = new Int32Array(indptr[nRows]);
  for (let r = 0; r < nRows; r++) rows.fill(r, indptr[r], indptr[r + 1]);
  return rows;
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

/**
 * The CSR structure of the given coordinates (duplicates merged, columns sorted within rows), and for each
 * input coordinate the entry it landed in: summing values by `slotOf` gives the matrix of the summed
 * coordinates, as scipy.sparse does. Two stable counting sorts (by column, then by row) run in O(nnz + n),
 * and keep duplicates in their input order.
 */
export function csrFromCoo(
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  nRows: number,
  nCols: number,
): CsrStructure & { slotOf: Int32Array } {
  const n = rows.length;
  if (cols.length !== n) throw new RangeError(`coordinates: ${n} rows but ${cols.length} cols`);
  for (let p = 0; p < n; p++) {
    if (!(rows[p] >= 0 && rows[p] < nRows && Number.isInteger(rows[p])))
      throw new RangeError(`coordinates: row ${rows[p]} at ${p} is not in [0, ${nRows})`);
    if (!(cols[p] >= 0 && cols[p] < nCols && Number.isInteger(cols[p])))
      throw new RangeError(`coordinates: col ${cols[p]} at ${p} is not in [0, ${nCols})`);
  }
  const byCol = countingOrder(cols, nCols, null);
  const order = countingOrder(rows, nRows, byCol);
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(n);
  const slotOf = new Int32Array(n);
  let write = 0;
  for (let q = 0; q < n; q++) {
    const p = order[q];
    const r = rows[p];
    if (q > 0 && rows[order[q - 1]] === r && indices[write - 1] === cols[p]) {
      slotOf[p] = write - 1;
      continue;
    }
    indices[write] = cols[p];
    slotOf[p] = write++;
    indptr[r + 1]++;
  }
  for (let r = 0; r < nRows; r++) indptr[r + 1] += indptr[r];
  return { indptr, indices: indices.slice(0, write), slotOf };
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

/** values[perm[q]] for every q: the values of a matrix carried to the entries of its transpose. */
export function permuted(values: Float32Array, perm: Int32Array): Float32Array {
  const out = new Float32Array(perm.length);
  for (let q = 0; q < out.length; q++) out[q] = values[perm[q]];
  return out;
}
