import { createRng, initBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { knnGraph, knnGraphOf, normalizedKnnAdjacency } from './knn';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/** Full cosine similarity matrix in float64 and a full sort of every row: the reference. */
function bruteForce(
  data: Float32Array,
  n: number,
  dim: number,
  k: number,
): { indices: number[][]; values: number[][] } {
  const norm = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[i * dim + j] ** 2;
    return Math.sqrt(s);
  });
  const indices: number[][] = [];
  const values: number[][] = [];
  for (let i = 0; i < n; i++) {
    const sims = Array.from({ length: n }, (_, c) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += data[i * dim + j] * data[c * dim + j];
      return norm[i] > 0 && norm[c] > 0 ? s / (norm[i] * norm[c]) : 0;
    });
    const order = sims.map((_, c) => c).sort((a, b) => sims[b] - sims[a] || a - b);
    indices.push(order.slice(0, k));
    values.push(order.slice(0, k).map((c) => sims[c]));
  }
  return { indices, values };
}

describe('knnGraph', () => {
  it('matches a brute-force full-matrix reference, block by block (ragged last block)', () => {
    const n = 37;
    const dim = 6;
    const k = 5;
    const data = randomRows(n, dim, 1);
    const ref = bruteForce(data, n, dim, k);
    // 37 * 4 entries per block: blocks of 4 rows, the last one holds 1.
    for (const maxBlockEntries of [n * 4, n * n]) {
      const g = knnGraphOf(data, n, dim, k, { maxBlockEntries });
      expect(g.k).toBe(k);
      for (let i = 0; i < n; i++) {
        expect(Array.from(g.indices.subarray(i * k, (i + 1) * k))).toEqual(ref.indices[i]);
        Array.from(g.values.subarray(i * k, (i + 1) * k)).forEach((v, j) => expect(v).toBeCloseTo(ref.values[i][j], 5));
      }
    }
  });

  it('ranks each item first among its own neighbours, treats zero rows as similar to nothing, and caps k at the item count', () => {
    const data = Float32Array.from([1, 0, 0, 0, 2, 1, 0, 1]);
    const g = knnGraphOf(data, 4, 2, 10);
    expect(g.k).toBe(4);
    expect(g.indices[0]).toBe(0);
    expect(g.indices[2 * 4]).toBe(2);
    // Row 1 is all zero: similarity 0 to every item, ties to the lowest id.
    expect(Array.from(g.indices.subarray(4, 8))).toEqual([0, 1, 2, 3]);
    expect(Array.from(g.values.subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it('leaves no tensors behind', () => {
    const x = tf.tensor2d(randomRows(20, 3, 2), [20, 3]);
    const before = tf.memory().numTensors;
    knnGraph(x, 3, { maxBlockEntries: 40 });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('normalizedKnnAdjacency', () => {
  it('is D^-1/2 A D^-1/2 of the kNN adjacency weighted by similarity or by ones', () => {
    const graph = {
      nItems: 3,
      k: 2,
      indices: Int32Array.from([0, 1, 1, 2, 2, 0]),
      values: Float32Array.from([1, 0.5, 1, 0.25, 1, 0.75]),
    };
    const sims = normalizedKnnAdjacency(graph, 'similarity').toDense();
    const d = [1.5, 1.25, 1.75];
    const want = [
      [1 / d[0], 0.5 / Math.sqrt(d[0] * d[1]), 0],
      [0, 1 / d[1], 0.25 / Math.sqrt(d[1] * d[2])],
      [0.75 / Math.sqrt(d[2] * d[0]), 0, 1 / d[2]],
    ];
    want.flat().forEach((w, p) => expect(sims[p]).toBeCloseTo(w, 6));
    const ones = normalizedKnnAdjacency(graph, 'ones').toDense();
    want.flat().forEach((w, p) => expect(ones[p]).toBeCloseTo(w === 0 ? 0 : 0.5, 6));
  });
});
