import { coordinatePairs } from '../native/native-ops';
import { csrFromCoo, csrProblem, entryRows, permuted, transposeStructure, type CsrStructure } from './csr';

/** What a structure derives once, shared by every matrix with that structure (a pattern and its valued copies). */
interface StructureCache {
  rows?: Int32Array;
  transposed?: { indptr: Int32Array; indices: Int32Array; perm: Int32Array };
  /** The transpose's own cache, so every matrix of this structure shares one transposed structure too. */
  transposedCache?: StructureCache;
  coordinatePairs?: Int32Array;
}

export interface SparseMatrixArrays extends CsrStructure {
  nRows: number;
  nCols: number;
  values?: Float32Array;
}

/**
 * The one CSR matrix type: a structure (columns sorted within each row) with optional values. Without
 * values it is a pattern whose values live in tensors, so they can be learned (attention weights, learned
 * item graphs); with them it is a fixed matrix. What the sparse ops need beside the arrays is computed on
 * first use and kept: the row of every entry, and the transpose (with the permutation from its entries to
 * these), so the gradient of a product with the matrix needs no conversion after the first step.
 */
export class SparseMatrix implements SparseMatrixArrays {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array | undefined;
  readonly nRows: number;
  readonly nCols: number;
  private readonly cache: StructureCache;
  private transposed: SparseMatrix | undefined;

  private constructor(arrays: SparseMatrixArrays, cache: StructureCache, transposed?: SparseMatrix) {
    this.indptr = arrays.indptr;
    this.indices = arrays.indices;
    this.values = arrays.values;
    this.nRows = arrays.nRows;
    this.nCols = arrays.nCols;
    this.cache = cache;
    this.transposed = transposed;
  }

  /** Wraps a valid CSR (see `sparseFromCoo` to build one); checks its structure and its values' count. */
  static fromCsr(arrays: SparseMatrixArrays): SparseMatrix {
    const problem = csrProblem(arrays.indptr, arrays.indices, arrays.nRows, arrays.nCols);
    if (problem) throw new RangeError(`CSR ${problem.message}`);
    if (arrays.values && arrays.values.length !== arrays.indices.length)
      throw new RangeError(`CSR has ${arrays.indices.length} entries but ${arrays.values.length} values`);
    return new SparseMatrix(arrays, {});
  }

  get nnz(): number {
    return this.indices.length;
  }

  /** The row of each entry. */
  get rows(): Int32Array {
    return (this.cache.rows ??= entryRows(this.indptr));
  }

  /** For each entry q of `transpose()`, the entry of this matrix it is. */
  get transposePermutation(): Int32Array {
    return this.transposedStructure().perm;
  }

  /** (row, col) of every entry, row-major [nnz, 2], for TensorFlow's sparse ops. */
  get coordinatePairs(): Int32Array {
    return (this.cache.coordinatePairs ??= coordinatePairs(this.rows, this.indices));
  }

  /** The values, which the fixed-matrix ops need; a pattern has none. */
  requireValues(what: string): Float32Array {
    if (!this.values) throw new RangeError(`${what}: the ${this.nRows} x ${this.nCols} sparse matrix has no values`);
    return this.values;
  }

  /** The same structure with these values (one per entry); shares what the structure derived. */
  withValues(values: Float32Array): SparseMatrix {
    if (values.length !== this.nnz) throw new RangeError(`CSR has ${this.nnz} entries but ${values.length} values`);
    return new SparseMatrix({ ...this.arrays(), values }, this.cache);
  }

  /** The transpose (values carried along), built on first use; its transpose is this matrix. */
  transpose(): SparseMatrix {
    if (!this.transposed) {
      const t = this.transposedStructure();
      const values = this.values && permuted(this.values, t.perm);
      const arrays = { indptr: t.indptr, indices: t.indices, values, nRows: this.nCols, nCols: this.nRows };
      this.transposed = new SparseMatrix(arrays, (this.cache.transposedCache ??= {}), this);
    }
    return this.transposed;
  }

  /** Row-major dense copy (for tests and small matrices). */
  toDense(): Float32Array {
    const values = this.requireValues('toDense');
    const out = new Float32Array(this.nRows * this.nCols);
    for (let i = 0; i < this.nRows; i++) {
      for (let p = this.indptr[i]; p < this.indptr[i + 1]; p++) out[i * this.nCols + this.indices[p]] += values[p];
    }
    return out;
  }

  private arrays(): SparseMatrixArrays {
    return { indptr: this.indptr, indices: this.indices, nRows: this.nRows, nCols: this.nCols };
  }

  private transposedStructure(): { indptr: Int32Array; indices: Int32Array; perm: Int32Array } {
    return (this.cache.transposed ??= transposeStructure(this.indptr, this.indices, this.nRows, this.nCols));
  }
}

/**
 * The pattern of the given coordinates (duplicates merged), and for each input coordinate the entry it
 * landed in: summing values by `slotOf` gives the matrix of the summed coordinates.
 */
export function sparsePatternFromCoo(
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  nRows: number,
  nCols: number,
): { pattern: SparseMatrix; slotOf: Int32Array } {
  const { indptr, indices, slotOf } = csrFromCoo(rows, cols, nRows, nCols);
  return { pattern: SparseMatrix.fromCsr({ indptr, indices, nRows, nCols }), slotOf };
}

/** The matrix of coordinates (row, col, value); duplicate coordinates are summed, in their input order. */
export function sparseFromCoo(
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  values: ArrayLike<number>,
  nRows: number,
  nCols: number,
): SparseMatrix {
  if (cols.length !== rows.length || values.length !== rows.length) {
    throw new RangeError(
      `sparseFromCoo: rows, cols and values differ in length (${rows.length}, ${cols.length}, ${values.length})`,
    );
  }
  const { pattern, slotOf } = sparsePatternFromCoo(rows, cols, nRows, nCols);
  const summed = new Float32Array(pattern.nnz);
  for (let p = 0; p < slotOf.length; p++) summed[slotOf[p]] += values[p];
  return pattern.withValues(summed);
}
