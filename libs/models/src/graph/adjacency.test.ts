import { createRng } from '@sgfd/tensor';
import { describe, expect, it } from 'vitest';
import {
  bipartiteAdjacency,
  degrees,
  randomWalkAdjacencyWithSelfLoops,
  symmetricEdgeWeights,
  userItemEdges,
} from './adjacency';
import { weightedSampleWithoutReplacement } from './edge-sampling';

// Users 0: items {0, 2}; 1: {2}. Nodes: u0, u1, i0, i1, i2.
const csr = { indptr: Int32Array.from([0, 2, 3]), indices: Int32Array.from([0, 2, 2]) };
const edges = userItemEdges(csr, 2, 3);

describe('user-item graph', () => {
  it('lists the training edges and their degrees', () => {
    expect(Array.from(edges.users)).toEqual([0, 0, 1]);
    expect(Array.from(edges.items)).toEqual([0, 2, 2]);
    const d = degrees(edges);
    expect(Array.from(d.user)).toEqual([2, 1]);
    expect(Array.from(d.item)).toEqual([1, 0, 2]);
  });

  it('weights edges 1/sqrt(d_u d_i) and mirrors them into the (users + items)^2 matrix', () => {
    const w = symmetricEdgeWeights(edges);
    [1 / Math.sqrt(2), 1 / 2, 1 / Math.sqrt(2)].forEach((x, e) => expect(w[e]).toBeCloseTo(x, 6));
    const a = bipartiteAdjacency(edges, w).toDense();
    const at = (r: number, c: number) => a[r * 5 + c];
    expect(at(0, 2)).toBeCloseTo(1 / Math.sqrt(2), 6);
    expect(at(2, 0)).toBeCloseTo(1 / Math.sqrt(2), 6);
    expect(at(0, 4)).toBeCloseTo(0.5, 6);
    expect(at(4, 1)).toBeCloseTo(1 / Math.sqrt(2), 6);
    expect(a.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0)).toBe(6);
  });

  it('builds LATTICE D^-1 (A + I): rows sum to one, item 1 (no edges) keeps only its self-loop', () => {
    const a = randomWalkAdjacencyWithSelfLoops(edges).toDense();
    for (let r = 0; r < 5; r++) expect(a.slice(r * 5, r * 5 + 5).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    expect(a[0 * 5 + 0]).toBeCloseTo(1 / 3, 6);
    expect(a[0 * 5 + 4]).toBeCloseTo(1 / 3, 6);
    expect(a[4 * 5 + 1]).toBeCloseTo(1 / 3, 6);
    expect(a[3 * 5 + 3]).toBe(1);
  });

  it('rejects a CSR that does not fit the sizes', () => {
    expect(() => userItemEdges(csr, 3, 3)).toThrow(RangeError);
    expect(() => userItemEdges(csr, 2, 2)).toThrow(/column 2 at entry \d+ is not in \[0, 2\)/);
  });
});

describe('weightedSampleWithoutReplacement', () => {
  it('draws distinct positions in increasing order, never a zero weight while others remain', () => {
    const rng = createRng(1);
    const picked = weightedSampleWithoutReplacement([1, 0, 2, 3, 0, 1], 4, rng);
    expect(Array.from(picked)).toEqual([0, 2, 3, 5]);
    expect(Array.from(weightedSampleWithoutReplacement([1, 2, 3], 3, rng))).toEqual([0, 1, 2]);
    expect(() => weightedSampleWithoutReplacement([1, 2], 3, rng)).toThrow(RangeError);
  });

  it('draws the first position with probability proportional to its weight', () => {
    const rng = createRng(2);
    const weights = [1, 2, 3, 4];
    const counts = [0, 0, 0, 0];
    const trials = 20000;
    for (let t = 0; t < trials; t++) counts[weightedSampleWithoutReplacement(weights, 1, rng)[0]]++;
    // Binomial standard deviation at p = 0.4 is about 0.0035; allow 4 of them.
    counts.forEach((c, p) => expect(Math.abs(c / trials - weights[p] / 10)).toBeLessThan(0.014));
  });

  it('is reproducible from the seed', () => {
    const w = Float32Array.from({ length: 50 }, (_, i) => 1 + (i % 7));
    expect(Array.from(weightedSampleWithoutReplacement(w, 10, createRng(3)))).toEqual(
      Array.from(weightedSampleWithoutReplacement(w, 10, createRng(3))),
    );
  });
});
