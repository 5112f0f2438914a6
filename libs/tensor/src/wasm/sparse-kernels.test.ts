import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import { csrTimesDense } from '../sparse/loops';
import { loadSparseKernels, sparseKernels, type SparseKernels } from './sparse-kernels';

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** A random CSR (rows may be empty; row 0 always is), its entry rows and columns. */
function csr(nRows: number, nCols: number, seed: number): { indptr: Int32Array; rows: Int32Array; cols: Int32Array } {
  const rng = createRng(seed);
  const indptr = new Int32Array(nRows + 1);
  const rows: number[] = [];
  const cols: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const n = r === 0 ? 0 : rng.int(4);
    for (let k = 0; k < n; k++) {
      rows.push(r);
      cols.push(rng.int(nCols));
    }
    indptr[r + 1] = rows.length;
  }
  return { indptr, rows: Int32Array.from(rows), cols: Int32Array.from(cols) };
}

/** spmm by a plain loop in double precision. */
function referenceSpmm(indptr: Int32Array, cols: Int32Array, vals: Float32Array, x: Float32Array, dim: number) {
  const nRows = indptr.length - 1;
  const out = new Float64Array(nRows * dim);
  for (let r = 0; r < nRows; r++)
    for (let j = 0; j < dim; j++)
      for (let q = indptr[r]; q < indptr[r + 1]; q++) out[r * dim + j] += vals[q] * x[cols[q] * dim + j];
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
}

// Widths around the kernels' steps: the spmm's 16- and 4-column strips and its scalar columns, the sddmm's
// four lanes and its scalar tail; 0 columns too.
const WIDTHS = [0, 1, 3, 4, 5, 7, 8, 12, 15, 16, 17, 19, 20, 31, 32, 33, 64, 67];

let kernels: SparseKernels;

beforeAll(async () => {
  kernels = await loadSparseKernels();
});

describe('the WebAssembly SIMD sparse kernels', () => {
  it('are compiled from their text once per process and then available synchronously', async () => {
    expect(sparseKernels()).toBe(kernels);
    expect(await loadSparseKernels()).toBe(kernels);
  });

  // The second call reuses the memory the first one grew.
  it.each(WIDTHS)('spmm matches the plain loop and the JavaScript CSR loop at width %i', (dim) => {
    const { indptr, cols } = csr(9, 7, dim + 1);
    const vals = random(cols.length, 1);
    const x = random(7 * dim, 2);
    const js = new Float32Array(9 * dim);
    csrTimesDense({ indptr, indices: cols, values: vals, nRows: 9 }, x, dim, js);
    for (let rep = 0; rep < 2; rep++) {
      const got = kernels.spmm(indptr, cols, vals, x, dim, 9);
      expectClose(got, referenceSpmm(indptr, cols, vals, x, dim));
      expectClose(got, js);
      // Row 0 has no entries: zeros, not what the memory held before.
      expect(Array.from(got.subarray(0, dim))).toEqual(new Array<number>(dim).fill(0));
    }
  });

  it('spmm of a matrix with no rows, and of rows that are all empty', () => {
    expect(kernels.spmm(new Int32Array(1), new Int32Array(0), new Float32Array(0), random(12, 3), 4, 0)).toEqual(
      new Float32Array(0),
    );
    const got = kernels.spmm(new Int32Array(4), new Int32Array(0), new Float32Array(0), random(5 * 20, 4), 20, 3);
    expect(Array.from(got)).toEqual(new Array<number>(60).fill(0));
  });

  it.each(WIDTHS)('sddmm matches a plain loop at width %i', (dim) => {
    const { rows, cols } = csr(30, 11, dim + 3);
    const a = random(30 * dim, 4);
    const b = random(11 * dim, 5);
    const got = kernels.sddmm(rows, cols, a, b, dim);
    const want = Array.from(rows, (r, p) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += a[r * dim + j] * b[cols[p] * dim + j];
      return s;
    });
    expectClose(got, want);
  });

  it('sddmm with no entries, and after the memory grew for a larger call', () => {
    expect(kernels.sddmm(new Int32Array(0), new Int32Array(0), random(8, 6), random(8, 7), 4)).toEqual(
      new Float32Array(0),
    );
    const dim = 8;
    const { rows, cols } = csr(30, 11, 3);
    const a = random(30 * dim, 4);
    const b = random(11 * dim, 5);
    kernels.spmm(new Int32Array(20001), new Int32Array(0), new Float32Array(0), new Float32Array(64 * 1000), 64, 20000);
    const got = kernels.sddmm(rows, cols, a, b, dim);
    for (let p = 0; p < rows.length; p++) {
      let want = 0;
      for (let j = 0; j < dim; j++) want += a[rows[p] * dim + j] * b[cols[p] * dim + j];
      expect(got[p]).toBeCloseTo(want, 5);
    }
  });
});
