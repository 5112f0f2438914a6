import { createRng } from '@sgfd/tensor';
import { describe, expect, it } from 'vitest';
import { simdAvailable, simdSddmm, simdSpmm } from './kernels';

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** A random CSR (rows may be empty), its entry rows and columns. */
function csr(nRows: number, nCols: number, seed: number): { indptr: Int32Array; rows: Int32Array; cols: Int32Array } {
  const rng = createRng(seed);
  const indptr = new Int32Array(nRows + 1);
  const rows: number[] = [];
  const cols: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const n = rng.int(4);
    for (let k = 0; k < n; k++) {
      rows.push(r);
      cols.push(rng.int(nCols));
    }
    indptr[r + 1] = rows.length;
  }
  return { indptr, rows: Int32Array.from(rows), cols: Int32Array.from(cols) };
}

describe('WebAssembly SIMD kernels', () => {
  it('are available in this runtime for widths that are multiples of 4', () => {
    expect(simdAvailable(64)).toBe(true);
    expect(simdAvailable(12)).toBe(true);
    expect(simdAvailable(6)).toBe(false);
  });

  // 4-column blocks (dim 12) and 16-column blocks (dim 32); the second call reuses the grown memory.
  it.each([12, 32])('spmm matches a plain loop at width %i', (dim) => {
    const { indptr, cols } = csr(9, 7, dim);
    const vals = random(cols.length, 1);
    const x = random(7 * dim, 2);
    for (let rep = 0; rep < 2; rep++) {
      const got = simdSpmm(indptr, cols, vals, x, dim, 9);
      for (let r = 0; r < 9; r++) {
        for (let j = 0; j < dim; j++) {
          let want = 0;
          for (let q = indptr[r]; q < indptr[r + 1]; q++) want += vals[q] * x[cols[q] * dim + j];
          expect(got[r * dim + j]).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('sddmm matches a plain loop, also after the memory grew for a larger call', () => {
    const dim = 8;
    const { rows, cols } = csr(30, 11, 3);
    const a = random(30 * dim, 4);
    const b = random(11 * dim, 5);
    simdSpmm(new Int32Array(20001), new Int32Array(0), new Float32Array(0), new Float32Array(64 * 1000), 64, 20000);
    const got = simdSddmm(rows, cols, a, b, dim);
    for (let p = 0; p < rows.length; p++) {
      let want = 0;
      for (let j = 0; j < dim; j++) want += a[rows[p] * dim + j] * b[cols[p] * dim + j];
      expect(got[p]).toBeCloseTo(want, 5);
    }
  });
});
