import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend';
import { createRng } from '../rng';
import { checkGradients } from '../testing';
import { tf } from '../tf';
import { edgeDots, segmentSoftmax, symmetricNormalize, weightedSpmm } from './ops';
import { sparsePatternFromCoo } from './sparse-matrix';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

// A 4 x 5 pattern given with a duplicate coordinate (0, 3) and rows out of order; row 2 is empty.
const cooRows = [3, 0, 1, 0, 3, 0, 1];
const cooCols = [4, 3, 0, 1, 0, 3, 2];
const { pattern, slotOf } = sparsePatternFromCoo(cooRows, cooCols, 4, 5);
const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** A variable holding `initial`, which is freed. */
function variableOf(initial: tf.Tensor): tf.Variable {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

function dense(v: ArrayLike<number>): number[][] {
  const out = Array.from({ length: 4 }, () => new Array<number>(5).fill(0));
  for (let p = 0; p < pattern.nnz; p++) out[pattern.rows[p]][pattern.indices[p]] += v[p];
  return out;
}

function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

describe('sparsePatternFromCoo', () => {
  it('sorts coordinates by (row, col), merges duplicates and maps each input to its entry', () => {
    expect(Array.from(pattern.indptr)).toEqual([0, 2, 4, 4, 6]);
    expect(Array.from(pattern.indices)).toEqual([1, 3, 0, 2, 0, 4]);
    expect(Array.from(pattern.rows)).toEqual([0, 0, 1, 1, 3, 3]);
    expect(Array.from(slotOf)).toEqual([5, 1, 2, 0, 4, 1, 3]);
  });

  it('keeps the transpose with the permutation back to its entries', () => {
    // Column c of the pattern lists (row, entry) pairs in row order.
    const t = pattern.transpose();
    for (let c = 0; c < 5; c++) {
      const viaTranspose = [];
      for (let q = t.indptr[c]; q < t.indptr[c + 1]; q++)
        viaTranspose.push([t.indices[q], pattern.transposePermutation[q]]);
      const direct = [];
      for (let p = 0; p < pattern.nnz; p++) if (pattern.indices[p] === c) direct.push([pattern.rows[p], p]);
      expect(viaTranspose).toEqual(direct);
    }
    expect(t.transpose()).toBe(pattern);
  });

  it('rejects coordinates outside the shape', () => {
    expect(() => sparsePatternFromCoo([0, 4], [0, 0], 4, 5)).toThrow(/row 4/);
    expect(() => sparsePatternFromCoo([0], [5], 4, 5)).toThrow(/col 5/);
  });
});

describe('edge ops', () => {
  it('weightedSpmm equals the dense product and has finite-difference gradients in values and x', () => {
    const v = [0.5, -1, 2, 0.25, 1.5, -0.75];
    const x = randomMatrix(5, 3, 1);
    const a = dense(v);
    const expected = a.map((row) => [0, 1, 2].map((j) => row.reduce((s, w, c) => s + w * x[c][j], 0)));
    const out = tf.tidy(() => weightedSpmm(pattern, tf.tensor1d(v), tf.tensor2d(x)).arraySync());
    out.forEach((row, r) => row.forEach((y, j) => expect(y).toBeCloseTo(expected[r][j], 5)));

    const vv = variableOf(tf.tensor1d(v));
    const xv = variableOf(tf.tensor2d(x));
    const w = tf.tensor2d(randomMatrix(4, 3, 2));
    const loss = () =>
      tf.tidy(
        () => tf.sum(tf.mul(tf.square(weightedSpmm(pattern, vv as tf.Tensor1D, xv as tf.Tensor2D)), w)) as tf.Scalar,
      );
    expect(checkGradients(loss, [vv, xv]).worst).toBeLessThanOrEqual(1);
    tf.dispose([vv, xv, w]);
  });

  // Off the native engine: the SIMD kernels' 4-column strips (8), 16-column strips (16) and scalar columns (11).
  it.each([8, 11, 16])('weightedSpmm and edgeDots match the dense products at width %i', (width) => {
    const v = [0.5, -1, 2, 0.25, 1.5, -0.75];
    const x = randomMatrix(5, width, 7);
    const y = randomMatrix(4, width, 8);
    const a = dense(v);
    const out = tf.tidy(() => weightedSpmm(pattern, tf.tensor1d(v), tf.tensor2d(x)).arraySync());
    out.forEach((row, r) =>
      row.forEach((o, j) =>
        expect(o).toBeCloseTo(
          a[r].reduce((s, w, c) => s + w * x[c][j], 0),
          5,
        ),
      ),
    );
    const dots = tf.tidy(() => values(edgeDots(pattern, tf.tensor2d(y), tf.tensor2d(x))));
    for (let p = 0; p < pattern.nnz; p++)
      expect(dots[p]).toBeCloseTo(
        y[pattern.rows[p]].reduce((s, yk, k) => s + yk * x[pattern.indices[p]][k], 0),
        5,
      );
  });

  it('has finite-difference gradients on the SIMD path (width 4) through spmm, dots and softmax', () => {
    const vv = variableOf(tf.tensor1d([0.5, -1, 2, 0.25, 1.5, -0.75]));
    const xv = variableOf(tf.tensor2d(randomMatrix(5, 4, 9)));
    const av = variableOf(tf.tensor2d(randomMatrix(4, 4, 10)));
    const loss = () =>
      tf.tidy(() => {
        const h = weightedSpmm(pattern, vv as tf.Tensor1D, xv as tf.Tensor2D);
        const s = segmentSoftmax(pattern, edgeDots(pattern, tf.add(h, av) as tf.Tensor2D, xv as tf.Tensor2D));
        return tf.sum(tf.square(weightedSpmm(pattern, s, xv as tf.Tensor2D))) as tf.Scalar;
      });
    expect(checkGradients(loss, [vv, xv, av]).worst).toBeLessThanOrEqual(1);
    tf.dispose([vv, xv, av]);
  });

  it('edgeDots gives <a[row], b[col]> at each entry, with finite-difference gradients', () => {
    const a = randomMatrix(4, 3, 3);
    const b = randomMatrix(5, 3, 4);
    const out = tf.tidy(() => values(edgeDots(pattern, tf.tensor2d(a), tf.tensor2d(b))));
    for (let p = 0; p < pattern.nnz; p++) {
      const want = a[pattern.rows[p]].reduce((s, ak, k) => s + ak * b[pattern.indices[p]][k], 0);
      expect(out[p]).toBeCloseTo(want, 5);
    }
    const av = variableOf(tf.tensor2d(a));
    const bv = variableOf(tf.tensor2d(b));
    const w = tf.tensor1d([1, -2, 0.5, 3, -1, 2]);
    const loss = () =>
      tf.tidy(() => tf.sum(tf.mul(tf.tanh(edgeDots(pattern, av as tf.Tensor2D, bv as tf.Tensor2D)), w)) as tf.Scalar);
    expect(checkGradients(loss, [av, bv]).worst).toBeLessThanOrEqual(1);
    tf.dispose([av, bv, w]);
  });

  it('segmentSoftmax normalises each row separately, stays finite for large scores, and has finite-difference gradients', () => {
    const s = [1, 2, 0, -1, 1000, 1001];
    const out = tf.tidy(() => values(segmentSoftmax(pattern, tf.tensor1d(s))));
    const e = Math.exp(1);
    expect(out[0]).toBeCloseTo(1 / (1 + e), 6);
    expect(out[1]).toBeCloseTo(e / (1 + e), 6);
    expect(out[2]).toBeCloseTo(e / (1 + e), 6);
    expect(out[4]).toBeCloseTo(1 / (1 + e), 6);
    const sv = variableOf(tf.tensor1d([0.3, -0.2, 0.1, 0.7, -0.4, 0.9]));
    const w = tf.tensor1d([1, -2, 0.5, 3, -1, 2]);
    const loss = () =>
      tf.tidy(() => tf.sum(tf.mul(tf.square(segmentSoftmax(pattern, sv as tf.Tensor1D)), w)) as tf.Scalar);
    expect(checkGradients(loss, [sv]).worst).toBeLessThanOrEqual(1);
    tf.dispose([sv, w]);
  });

  it('symmetricNormalize gives D^-1/2 A D^-1/2 with zero for rows whose sum is not positive', () => {
    // 3 x 3: row sums 4, 1, -1 (the last row is cut off).
    const { pattern: sq } = sparsePatternFromCoo([0, 0, 1, 2, 2], [0, 1, 0, 1, 2], 3, 3);
    const out = tf.tidy(() => values(symmetricNormalize(sq, tf.tensor1d([1, 3, 1, 1, -2]))));
    expect(out[0]).toBeCloseTo(1 / 4, 6);
    expect(out[1]).toBeCloseTo(3 / 2, 6);
    expect(out[2]).toBeCloseTo(1 / 2, 6);
    expect(out.slice(3).map(Math.abs)).toEqual([0, 0]);
    const vv = variableOf(tf.tensor1d([1, 3, 1, 1, 2]));
    const loss = () =>
      tf.tidy(
        () => tf.sum(tf.mul(symmetricNormalize(sq, vv as tf.Tensor1D), tf.tensor1d([1, 2, 3, 4, 5]))) as tf.Scalar,
      );
    expect(checkGradients(loss, [vv]).worst).toBeLessThanOrEqual(1);
    // With the last row cut off: its entries and their gradients are exactly 0.
    const cut = variableOf(tf.tensor1d([1, 3, 1, 1, -2]));
    const cutLoss = () =>
      tf.tidy(
        () => tf.sum(tf.mul(symmetricNormalize(sq, cut as tf.Tensor1D), tf.tensor1d([1, 2, 3, 4, 5]))) as tf.Scalar,
      );
    expect(checkGradients(cutLoss, [cut]).worst).toBeLessThanOrEqual(1);
    const { grads } = tf.variableGrads(cutLoss, [cut]);
    expect(Array.from(Object.values(grads)[0]!.dataSync()).slice(3)).toEqual([0, 0]);
    tf.dispose([vv, cut, ...Object.values(grads)]);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const v = variableOf(tf.tensor1d([0.5, -1, 2, 0.25, 1.5, -0.75]));
    const x = variableOf(tf.tensor2d(randomMatrix(5, 3, 5)));
    for (let step = 0; step < 3; step++) {
      const { value, grads } = tf.variableGrads(() => {
        const s = segmentSoftmax(
          pattern,
          edgeDots(pattern, weightedSpmm(pattern, v as tf.Tensor1D, x as tf.Tensor2D), x as tf.Tensor2D),
        );
        return tf.sum(weightedSpmm(pattern, s, x as tf.Tensor2D)) as tf.Scalar;
      }, [v, x]);
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose([v, x]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
