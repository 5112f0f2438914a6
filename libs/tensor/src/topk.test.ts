import { describe, expect, it } from 'vitest';
import { createRng } from './rng';
import { topK } from './topk';

/** Reference: full stable sort, descending, NaN as -Infinity, ties to the lower index. */
function sortedTopK(scores: Float32Array, nRows: number, nCols: number, k: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < nRows; r++) {
    const key = (j: number) => {
      const v = scores[r * nCols + j];
      return Number.isNaN(v) ? -Infinity : v;
    };
    const order = Array.from({ length: nCols }, (_, j) => j).sort((a, b) => key(b) - key(a) || a - b);
    rows.push(order.slice(0, Math.min(k, nCols)));
  }
  return rows;
}

function rowsOf(indices: Int32Array, k: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < indices.length; i += k) rows.push(Array.from(indices.subarray(i, i + k)));
  return rows;
}

describe('topK', () => {
  it('returns each row best first with the lower index winning ties', () => {
    const scores = Float32Array.from([
      0.5,
      0.9,
      0.5,
      0.1,
      0.9, //
      1,
      1,
      1,
      1,
      1,
      -Infinity,
      3,
      NaN,
      -Infinity,
      2,
    ]);
    const { indices, values, k } = topK(scores, 3, 5, 3);
    expect(k).toBe(3);
    expect(rowsOf(indices, 3)).toEqual([
      [1, 4, 0],
      [0, 1, 2],
      [1, 4, 0],
    ]);
    expect(Array.from(values.subarray(0, 3))).toEqual([0.9, 0.9, 0.5].map(Math.fround));
    expect(values[8]).toBe(-Infinity);
  });

  it('ranks NaN as -Infinity (ties by index) and returns every column when k > nCols', () => {
    const scores = Float32Array.from([NaN, -Infinity, 0, NaN]);
    const { indices, k } = topK(scores, 1, 4, 10);
    expect(k).toBe(4);
    expect(Array.from(indices)).toEqual([2, 0, 1, 3]);
  });

  it('matches a full stable sort on random rows with many ties, NaN and -Infinity', () => {
    const rng = createRng(9);
    const nRows = 40;
    const nCols = 300;
    const scores = Float32Array.from({ length: nRows * nCols }, (_, i) =>
      i % 37 === 5 ? NaN : i % 41 === 3 ? -Infinity : Math.floor(rng.float() * 20) / 4,
    );
    for (const k of [1, 2, 7, 50, 74, 75, 76, 299, 300]) {
      const { indices } = topK(scores, nRows, nCols, k);
      expect(rowsOf(indices, k)).toEqual(sortedTopK(scores, nRows, nCols, k));
    }
  });

  it('rejects shapes that do not match the scores and non-positive k', () => {
    expect(() => topK(new Float32Array(5), 2, 3, 1)).toThrow(/do not fill \[2, 3\]/);
    expect(() => topK(new Float32Array(6), 2, 3, 0)).toThrow(/positive integer/);
  });
});
