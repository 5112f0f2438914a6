import { describe, expect, it } from 'vitest';
import { dotRows } from './dot-rows';

/** A deterministic pseudo-random matrix in [-1, 1). */
function matrix(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

describe('the WebAssembly SIMD dot kernel', () => {
  // Widths around the kernel's 8- and 4-lane steps and its scalar tail, and a 1-row and a 0-row matrix.
  it.each([
    [5, 1],
    [4, 3],
    [7, 4],
    [3, 7],
    [9, 8],
    [6, 9],
    [33, 128],
    [2, 130],
    [1, 64],
    [0, 16],
  ])('%i rows x %i columns: each score is the row dotted with the query', async (rows, width) => {
    const m = matrix(rows * width, 7 + rows + width);
    const kernel = await dotRows(m, rows, width);
    const out = new Float32Array(rows);
    for (const seed of [1, 2]) {
      const q = matrix(width, seed);
      kernel.scores(q, out);
      for (let i = 0; i < rows; i++) {
        let want = 0;
        for (let k = 0; k < width; k++) want += m[i * width + k]! * q[k]!;
        expect(Math.abs(out[i]! - want), `row ${i}`).toBeLessThan(1e-5 * Math.max(1, Math.sqrt(width)));
      }
    }
  });

  it('keeps its own copy of the matrix: changing the caller array afterwards changes no score', async () => {
    const m = Float32Array.from([1, 2, 3, 4]);
    const kernel = await dotRows(m, 2, 2);
    m.fill(0);
    const out = new Float32Array(2);
    kernel.scores(Float32Array.from([1, 1]), out);
    expect(Array.from(out)).toEqual([3, 7]);
  });

  it('grows its memory for a matrix larger than one page', async () => {
    const rows = 3000;
    const width = 64;
    const m = matrix(rows * width, 3);
    const kernel = await dotRows(m, rows, width);
    const out = new Float32Array(rows);
    const q = matrix(width, 5);
    kernel.scores(q, out);
    let want = 0;
    for (let k = 0; k < width; k++) want += m[(rows - 1) * width + k]! * q[k]!;
    expect(out[rows - 1]).toBeCloseTo(want, 4);
  });
});
