import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGradients } from '../finite-differences';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { liveCounts, liveCountsAcross, maxRelativeError, randomTensor, randomValues, useBackend } from '../testing';
import { entryRows as entryRowsOf } from '../sparse/csr';
import { sparseFromCoo } from '../sparse/sparse-matrix';
import { propagationMeanOfBlocks } from './propagation-mean';
import { residentArray, residentArrayCount } from './resident-arrays';
import { tf } from '../tf';
import {
  biasLeakyNormalizeFused,
  bprGapFused,
  bprRowsFused,
  bprSoftplusFused,
  classifierDistillFused,
  customOpsAvailable,
  csrMatMul,
  customOpsError,
  l2NormalizeRowsFused,
  mamlHiddenFused,
  mamlScores,
  rowCosine,
  sampledDots,
  segmentSoftmaxByRows,
  setCustomOpsEnabled,
  statelessDropoutFused,
  topKRows,
  type MamlScoreInputs,
} from './custom-ops';
import { seededUniform } from '../kernels';
import { FusedAdamSlot } from './fused-adam';
import { topK } from '../topk';

/** MAML's score written out with tfjs ops, pair by pair (the definition the fused op must match). */
function referenceScores(x: MamlScoreInputs): Float32Array {
  return tf.tidy(() => {
    const [c, hidden] = x.userPart.shape;
    const n = x.itemPart.shape[0];
    const norm = tf.sqrt(tf.maximum(tf.add(tf.expandDims(x.userSq, 1), tf.expandDims(x.itemSq, 0)), 1e-12));
    // pre = (the doubled parts' sum) / 2 / norm + b1; the attention's hidden layer is tanh(pre).
    const pre = tf.add(
      tf.div(tf.add(tf.expandDims(x.userPart, 1), tf.expandDims(x.itemPart, 0)), tf.mul(tf.expandDims(norm, 2), 2)),
      tf.div(x.bias2, 2),
    );
    const h = tf.reshape(tf.tanh(pre), [c * n, hidden]);
    const hNorm = tf.sqrt(tf.maximum(tf.sum(tf.square(h), 1, true), 1e-24));
    const out = tf.add(tf.matMul(tf.div(h, hNorm), x.w2), x.b2);
    const a = tf.reshape(tf.mul(tf.softmax(tf.relu(out)), x.scale), [c, n, -1]);
    const diff = tf.squaredDifference(tf.expandDims(x.userEmbedding, 1), tf.expandDims(x.itemEmbedding, 0));
    return tf.neg(tf.sum(tf.mul(tf.square(a), diff), 2)).dataSync() as Float32Array;
  });
}

function inputs(c: number, n: number, hidden: number, d: number): MamlScoreInputs {
  const positive = (t: tf.Tensor) => tf.tidy(() => tf.add(tf.abs(t), 0.1)) as tf.Tensor1D;
  return {
    userPart: randomTensor([c, hidden], 1) as tf.Tensor2D,
    itemPart: randomTensor([n, hidden], 2) as tf.Tensor2D,
    userSq: positive(randomTensor([c], 3)),
    itemSq: positive(randomTensor([n], 4)),
    bias2: randomTensor([hidden], 5) as tf.Tensor1D,
    w2: tf.tidy(() => tf.mul(randomTensor([hidden, d], 6), 2)) as tf.Tensor2D,
    b2: randomTensor([d], 7) as tf.Tensor1D,
    userEmbedding: randomTensor([c, d], 8) as tf.Tensor2D,
    itemEmbedding: randomTensor([n, d], 9) as tf.Tensor2D,
    scale: d,
  };
}

/** The first index where two arrays differ (-1 if none): vitest's deep equality is slow on 10^5 values. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

interface Csr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** A random CSR matrix: 0-11 entries a row (rows 0 and 7 empty), columns drawn with repeats. */
function randomCsr(nRows: number, nCols: number, seed: number): Csr {
  const draws = randomValues(nRows * 13, seed);
  const indptr = new Int32Array(nRows + 1);
  const indices: number[] = [];
  for (let r = 0; r < nRows; r++) {
    const count = r === 0 || r === 7 ? 0 : Math.floor(Math.abs(draws[r * 13]) * 12) % 12;
    for (let q = 0; q < count; q++) indices.push(Math.floor(Math.abs(draws[r * 13 + 1 + q]) * 997) % nCols);
    indptr[r + 1] = indices.length;
  }
  return {
    indptr,
    indices: Int32Array.from(indices),
    values: Float32Array.from(randomValues(indices.length, seed + 1)),
  };
}

/** A x written out, in float64. */
function csrTimes(a: Csr, x: ArrayLike<number>, d: number): Float64Array {
  const nRows = a.indptr.length - 1;
  const y = new Float64Array(nRows * d);
  for (let r = 0; r < nRows; r++)
    for (let e = a.indptr[r]; e < a.indptr[r + 1]; e++)
      for (let j = 0; j < d; j++) y[r * d + j] += a.values[e] * x[a.indices[e] * d + j];
  return y;
}

/** (x + A x + ... + A^L x) / (L + 1) written out. */
function layerMean(a: Csr, x: ArrayLike<number>, d: number, layers: number): Float64Array {
  let power: ArrayLike<number> = Float64Array.from(x);
  const sum = Float64Array.from(x);
  for (let l = 0; l < layers; l++) {
    power = csrTimes(a, power, d);
    for (let i = 0; i < sum.length; i++) sum[i] += power[i];
  }
  return sum.map((v) => v / (layers + 1));
}

const tensorsOf = (x: MamlScoreInputs) => Object.values(x).filter((v): v is tf.Tensor => v instanceof tf.Tensor);

describe('the custom TensorFlow ops built with the engine', () => {
  beforeAll(() => useBackend('tensorflow'));
  afterAll(() => setCustomOpsEnabled(true));

  it('are loaded on the tensorflow backend', () => {
    expect(customOpsError()).toBeUndefined();
    expect(customOpsAvailable()).toBe(true);
  });

  // 300 items span two tiles of the kernel (256 pairs), the second one ending in a partial panel of 16
  // pairs; d = 8 and 64 leave 2 and 4 rows after the product's 6-row panels; hidden 13 is odd.
  for (const [users, items, hidden, d] of [
    [3, 300, 24, 8],
    [2, 37, 13, 64],
  ])
    it(`SgfdMamlScores equals the attention written out with tfjs ops (${users} users, ${items} items, hidden ${hidden}, d ${d})`, () => {
      const x = inputs(users, items, hidden, d);
      const fused = mamlScores(x);
      expect(fused.shape).toEqual([users, items]);
      const got = fused.dataSync();
      const want = referenceScores(x);
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-3 + Math.abs(want[i])));
      expect(worst).toBeLessThan(1e-4);
      tf.dispose([fused, ...tensorsOf(x)]);
    });

  it('SgfdMamlScores rejects inconsistent shapes, naming them, and leaks nothing', () => {
    const x = inputs(2, 5, 6, 4);
    const bad = { ...x, itemEmbedding: randomTensor([4, 4], 10) as tf.Tensor2D };
    expect(() => mamlScores(bad)).toThrow(/inconsistent shapes \(users 2, items 5, hidden 6, d 4\)/);
    const { before, after } = liveCountsAcross(() => mamlScores(x).dispose());
    expect(after).toEqual(before);
    tf.dispose([bad.itemEmbedding, ...tensorsOf(x)]);
  });

  it('SgfdSampledDots gives <a[rows[e]], b[cols[e]]> and names an entry out of range', () => {
    const a = randomTensor([5, 7], 11) as tf.Tensor2D;
    const b = randomTensor([3, 7], 12) as tf.Tensor2D;
    const rows = tf.tensor1d([0, 4, 4, 2, 1], 'int32');
    const cols = tf.tensor1d([2, 0, 2, 1, 1], 'int32');
    const got = sampledDots(a, b, rows, cols);
    const want = tf.tidy(() => tf.sum(tf.mul(tf.gather(a, rows), tf.gather(b, cols)), 1));
    const [g, w] = [got.dataSync(), want.dataSync()];
    g.forEach((v, i) => expect(v).toBeCloseTo(w[i], 5));
    const bad = tf.tensor1d([0, 1, 3, 2, 1], 'int32');
    expect(() => sampledDots(a, b, rows, bad)).toThrow(/entry 2 is \(4, 3\), outside \[0, 5\) x \[0, 3\)/);
    tf.dispose([a, b, rows, cols, got, want, bad]);
  });

  it('SgfdSegmentSoftmax normalises each row (an empty row included), with finite-difference gradients', () => {
    // Rows [0, 3), [3, 3) (empty), [3, 4), [4, 7); the last row's scores are large, as after a sharp layer.
    const indptr = Int32Array.of(0, 3, 3, 4, 7);
    const scores = tf.variable(tf.tensor1d([0.5, -1, 2, 3, 80, 81, 79.5]));
    const out = segmentSoftmaxByRows(scores, indptr).dataSync();
    const softmax = (xs: number[]) => {
      const m = Math.max(...xs);
      const e = xs.map((x) => Math.exp(x - m));
      return e.map((v) => v / e.reduce((p, q) => p + q, 0));
    };
    const want = [...softmax([0.5, -1, 2]), 1, ...softmax([80, 81, 79.5])];
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    const weights = tf.tensor1d([0.3, -2, 1, 4, 0.7, -1.5, 2]);
    const loss = () => tf.sum(tf.mul(segmentSoftmaxByRows(scores, indptr), weights)) as tf.Scalar;
    expect(checkGradients(loss, [scores]).worst).toBeLessThanOrEqual(1);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grad(() => loss())(scores)));
    expect(after).toEqual(before);
    expect(() => segmentSoftmaxByRows(scores, Int32Array.of(0, 3, 2, 7))).toThrow(/indptr decreases at row 1/);
    expect(() => segmentSoftmaxByRows(scores, Int32Array.of(0, 3, 6))).toThrow(/from 0 to the 7 entries, found 0 to 6/);
    tf.dispose([scores, weights]);
  });

  it('SgfdRowCosine is torch cosine_similarity (norms clamped at eps), with finite-difference gradients', () => {
    const a = tf.variable(randomTensor([4, 5], 13) as tf.Tensor2D);
    const b = tf.variable(randomTensor([4, 5], 14) as tf.Tensor2D);
    const got = rowCosine(a, b, 1e-8).dataSync();
    const [av, bv] = [a.arraySync(), b.arraySync()];
    av.forEach((row, r) => {
      const dot = row.reduce((acc, x, k) => acc + x * bv[r][k], 0);
      expect(got[r]).toBeCloseTo(dot / (Math.hypot(...row) * Math.hypot(...bv[r])), 6);
    });
    const weights = tf.tensor1d([1, -2, 0.5, 3]);
    const loss = () => tf.sum(tf.mul(rowCosine(a, b, 1e-8), weights)) as tf.Scalar;
    expect(checkGradients(loss, [a, b]).worst).toBeLessThanOrEqual(1);
    // A row under eps is clamped: its similarity is dot / (eps |b|), and its own gradient has no norm term.
    const tiny = tf.tensor2d([[1e-3, 0, 0]]);
    const other = tf.tensor2d([[2, 1, 0]]);
    expect(rowCosine(tiny, other, 0.1).dataSync()[0]).toBeCloseTo(2e-3 / (0.1 * Math.sqrt(5)), 6);
    const [gTiny] = tf.grads((x: tf.Tensor, y: tf.Tensor) => rowCosine(x as tf.Tensor2D, y as tf.Tensor2D, 0.1))([
      tiny,
      other,
    ]);
    Array.from(gTiny.dataSync()).forEach((v, k) => expect(v).toBeCloseTo([2, 1, 0][k] / (0.1 * Math.sqrt(5)), 5));
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([a, b])));
    expect(after).toEqual(before);
    tf.dispose([a, b, weights, tiny, other, gTiny]);
  });

  it('SgfdL2NormalizeRows is torch normalize (norm clamped at eps), with finite-difference gradients', () => {
    const x = tf.variable(randomTensor([4, 6], 15) as tf.Tensor2D);
    const got = l2NormalizeRowsFused(x, 1e-12).arraySync();
    x.arraySync().forEach((row, r) => {
      const norm = Math.hypot(...row);
      row.forEach((v, k) => expect(got[r][k]).toBeCloseTo(v / norm, 6));
    });
    const weights = randomTensor([4, 6], 16);
    const loss = () => tf.sum(tf.mul(l2NormalizeRowsFused(x, 1e-12), weights)) as tf.Scalar;
    expect(checkGradients(loss, [x]).worst).toBeLessThanOrEqual(1);
    // A row under eps is divided by eps, a constant: its gradient is dy / eps (and an all-zero row's is finite).
    const small = tf.tensor2d([
      [1e-3, -2e-3, 0],
      [0, 0, 0],
    ]);
    expect(Array.from(l2NormalizeRowsFused(small, 0.1).dataSync())).toEqual(
      [1e-2, -2e-2, 0, 0, 0, 0].map((v) => expect.closeTo(v, 7)),
    );
    const dy = tf.tensor2d([
      [1, 2, 3],
      [-1, 0.5, 4],
    ]);
    const [gSmall] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(l2NormalizeRowsFused(t as tf.Tensor2D, 0.1), dy)))([
      small,
    ]);
    Array.from(gSmall.dataSync()).forEach((v, k) => expect(v).toBeCloseTo([10, 20, 30, -10, 5, 40][k], 4));
    expect(() => l2NormalizeRowsFused(tf.zeros([2, 2, 2]) as unknown as tf.Tensor2D, 1e-12)).toThrow(
      /x must be a matrix, got \[2,2,2\]/,
    );
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([x])));
    expect(after).toEqual(before);
    tf.dispose([x, weights, small, dy, gSmall]);
  });

  it('SgfdBiasLeakyNormalize is normalize(leakyRelu(x + bias)), with finite-difference gradients to x and bias', () => {
    const x = tf.variable(randomTensor([5, 6], 18) as tf.Tensor2D);
    const bias = tf.variable(randomTensor([6], 19));
    const slope = 0.2;
    const [xv, bv] = [x.arraySync(), bias.arraySync() as number[]];
    const expected = (withBias: boolean) =>
      xv.map((row) => {
        const a = row.map((v, k) => (withBias ? v + bv[k] : v)).map((z) => (z > 0 ? z : slope * z));
        const norm = Math.hypot(...a);
        return a.map((v) => v / norm);
      });
    const close = (got: number[][], want: number[][]) =>
      got.forEach((row, r) => row.forEach((v, k) => expect(v).toBeCloseTo(want[r][k], 6)));
    close(biasLeakyNormalizeFused(x, bias, slope, 1e-12).arraySync(), expected(true));
    close(biasLeakyNormalizeFused(x, tf.reshape(bias, [1, 6]), slope, 1e-12).arraySync(), expected(true));
    close(biasLeakyNormalizeFused(x, null, slope, 1e-12).arraySync(), expected(false));
    const weights = randomTensor([5, 6], 20);
    const loss = () => tf.sum(tf.mul(biasLeakyNormalizeFused(x, bias, slope, 1e-12), weights)) as tf.Scalar;
    const check = checkGradients(loss, [x, bias]);
    expect(check.worst).toBeLessThanOrEqual(1);
    expect(check.checked).toBe(36);
    // A [1, D] bias gets a [1, D] gradient, the sum of the rows' gradients.
    const [gRow] = tf.grads((b: tf.Tensor) => tf.sum(tf.mul(biasLeakyNormalizeFused(x, b, slope, 1e-12), weights)))([
      tf.reshape(bias, [1, 6]),
    ]);
    const [gFlat] = tf.grads((b: tf.Tensor) => tf.sum(tf.mul(biasLeakyNormalizeFused(x, b, slope, 1e-12), weights)))([
      bias,
    ]);
    expect(gRow.shape).toEqual([1, 6]);
    expect(maxRelativeError(gRow.dataSync(), gFlat.dataSync())).toBeLessThan(1e-6);
    // A row under eps is divided by eps: its gradient is leaky'(z) dy / eps.
    const small = tf.tensor2d([[1e-3, -2e-3, 0]]);
    const dy = tf.tensor2d([[1, 2, 3]]);
    const [gSmall] = tf.grads((t: tf.Tensor) =>
      tf.sum(tf.mul(biasLeakyNormalizeFused(t as tf.Tensor2D, null, 0.5, 0.1), dy)),
    )([small]);
    Array.from(gSmall.dataSync()).forEach((v, k) => expect(v).toBeCloseTo([10, 10, 15][k], 4));
    expect(() => biasLeakyNormalizeFused(x, tf.zeros([5]), slope, 1e-12)).toThrow(
      /SgfdBiasLeakyNormalize: bias must be \[6\], \[1, 6\] or \[0\], got \[5\]/,
    );
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([x, bias])));
    expect(after).toEqual(before);
    tf.dispose([x, bias, weights, gRow, gFlat, small, dy, gSmall]);
  });

  // 7 x 40,001 entries: the last Philox step is partial, and the op's thread shards and its eight-step vector
  // blocks start mid-stream.
  it('SgfdStatelessDropout draws the mask of StatelessRandomUniform to the bit; its gradient is the same mask', () => {
    const x = tf.variable(tf.add(randomTensor([7, 40001], 17), 3) as tf.Tensor2D);
    for (const [seed, stream, rate] of [
      [12345, 0, 0.5],
      [-7, 1, 0.2],
      [2147483647, 3, 0.9],
    ]) {
      const got = statelessDropoutFused(x, seed, stream, rate).dataSync();
      const want = tf.tidy(() =>
        tf.mul(
          x,
          tf.mul(tf.cast(tf.greaterEqual(seededUniform(x.shape, seed, stream), rate), 'float32'), 1 / (1 - rate)),
        ),
      );
      expect(firstDifference(got, want.dataSync())).toBe(-1);
      const kept = got.filter((v) => v !== 0).length / got.length;
      expect(Math.abs(kept - (1 - rate))).toBeLessThan(0.02);
      want.dispose();
    }
    const dy = randomTensor([7, 40001], 18);
    const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(statelessDropoutFused(t, 9, 2, 0.5), dy)))([x]);
    expect(
      firstDifference(
        g.dataSync(),
        tf.tidy(() => statelessDropoutFused(dy, 9, 2, 0.5).dataSync()),
      ),
    ).toBe(-1);
    const { before, after } = liveCountsAcross(() =>
      tf.dispose(tf.grads((t: tf.Tensor) => tf.sum(statelessDropoutFused(t, 1, 0, 0.3)))([x])),
    );
    expect(after).toEqual(before);
    tf.dispose([x, dy, g]);
  });

  it('SgfdCsrMatMul is the CSR matrix times x (an empty row included) and names a bad entry or offset', () => {
    // A = [[1, 0, 2], [0, 0, 0], [0, -3, 0.5]] in CSR form, times x [3, 2].
    const indptr = Int32Array.of(0, 2, 2, 4);
    const indices = Int32Array.of(0, 2, 1, 2);
    const values = tf.tensor1d([1, 2, -3, 0.5]);
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const y = csrMatMul(indptr, indices, values, x);
    expect(y.arraySync()).toEqual([
      [11, 14],
      [0, 0],
      [-6.5, -9],
    ]);
    expect(() => csrMatMul(indptr, Int32Array.of(0, 2, 3, 2), values, x)).toThrow(
      /entry 2 has column 3, outside \[0, 3\)/,
    );
    expect(() => csrMatMul(Int32Array.of(0, 2, 1, 4), indices, values, x)).toThrow(/indptr decreases at row 1/);
    expect(() => csrMatMul(Int32Array.of(0, 2, 2, 3), indices, values, x)).toThrow(
      /indptr must run from 0 to the 4 entries, found 0 to 3/,
    );
    const short = tf.tensor1d([1, 2, 3]);
    expect(() => csrMatMul(indptr, indices, short, x)).toThrow(/4 indices but 3 values/);
    const { before, after } = liveCountsAcross(() => csrMatMul(indptr, indices, values, x).dispose());
    expect(after).toEqual(before);
    tf.dispose([values, short, x, y]);
  });

  // Width 64 takes the prefetching AVX2 rows, 5 the general ones; rows 0 and 7 are empty, columns repeat.
  for (const d of [64, 5])
    it(`SgfdCsrMatMul at width ${d} equals the product written out (empty rows, repeated columns)`, () => {
      const a = randomCsr(40, 30, 3);
      const x = randomTensor([30, d], 4) as tf.Tensor2D;
      const y = csrMatMul(a.indptr, a.indices, a.values, x);
      expect(maxRelativeError(y.dataSync(), csrTimes(a, x.dataSync(), d))).toBeLessThan(1e-5);
      tf.dispose([x, y]);
    });

  // Layers 1, 2 and 3 take the op's first-and-last, first-then-last and middle-layer passes; the gradient
  // is the same op on the transpose.
  for (const [layers, d] of [
    [0, 64],
    [1, 64],
    [2, 64],
    [3, 64],
    [2, 3],
  ])
    it(`SgfdPropagationMean with ${layers} layers at width ${d} is the layer mean written out, and so is its gradient`, () => {
      const a = randomCsr(50, 50, 5);
      const matrix = sparseFromCoo(entryRowsOf(a.indptr), a.indices, a.values, 50, 50);
      const top = tf.variable(randomTensor([20, d], 6) as tf.Tensor2D);
      const bottom = tf.variable(randomTensor([30, d], 7) as tf.Tensor2D);
      const x = Float32Array.from([...top.dataSync(), ...bottom.dataSync()]);
      const out = propagationMeanOfBlocks(matrix, top, bottom, layers);
      const got = Float32Array.from([...out.top.dataSync(), ...out.bottom.dataSync()]);
      expect(maxRelativeError(got, layerMean(a, x, d, layers))).toBeLessThan(1e-5);
      const weights = randomTensor([50, d], 8) as tf.Tensor2D;
      const [gTop, gBottom] = tf.grads((t: tf.Tensor, b: tf.Tensor) => {
        const o = propagationMeanOfBlocks(matrix, t as tf.Tensor2D, b as tf.Tensor2D, layers);
        return tf.sum(tf.mul(tf.concat([o.top, o.bottom]), weights));
      })([top, bottom]);
      const t = matrix.transpose();
      const want = layerMean(
        { indptr: t.indptr, indices: t.indices, values: t.values! },
        weights.dataSync(),
        d,
        layers,
      );
      const grad = Float32Array.from([...gTop.dataSync(), ...gBottom.dataSync()]);
      expect(maxRelativeError(grad, want)).toBeLessThan(1e-5);
      tf.dispose([top, bottom, out.top, out.bottom, weights, gTop, gBottom]);
    });

  it('resident arrays are uploaded once, read by the ops, and released when their array is collected', async () => {
    const a = randomCsr(40, 30, 9);
    const x = randomTensor([30, 64], 10) as tf.Tensor2D;
    const first = residentArray(a.indices);
    expect(residentArray(a.indices)).toBe(first);
    expect(residentArray(Int32Array.from(a.indices)).tensorId).not.toBe(first.tensorId);
    const counted = residentArrayCount();
    // A fresh matrix each call: its arrays stay resident until collected, then go.
    const { before, after } = liveCountsAcross(() => {
      const b = randomCsr(40, 30, 11);
      csrMatMul(b.indptr, b.indices, b.values, x).dispose();
    });
    expect(after.tensors).toBe(before.tensors);
    expect(residentArrayCount()).toBeGreaterThanOrEqual(counted + 3 * 6);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let round = 0; round < 20 && residentArrayCount() > counted; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(residentArrayCount()).toBeLessThanOrEqual(counted);
    expect(liveCounts().native).toBeLessThan(after.native);
    tf.dispose(x);
  });

  it('SgfdBprGap is <u, neg> - <u, pos> per row, with finite-difference gradients', () => {
    const u = tf.variable(randomTensor([3, 4], 19) as tf.Tensor2D);
    const pos = tf.variable(randomTensor([3, 4], 20) as tf.Tensor2D);
    const neg = tf.variable(randomTensor([3, 4], 21) as tf.Tensor2D);
    const got = bprGapFused(u, pos, neg).dataSync();
    const [uv, pv, nv] = [u.arraySync(), pos.arraySync(), neg.arraySync()];
    uv.forEach((row, r) =>
      expect(got[r]).toBeCloseTo(
        row.reduce((acc, x, k) => acc + x * (nv[r][k] - pv[r][k]), 0),
        6,
      ),
    );
    const weights = tf.tensor1d([0.5, -1, 2]);
    const loss = () => tf.sum(tf.mul(tf.square(bprGapFused(u, pos, neg)), weights)) as tf.Scalar;
    expect(checkGradients(loss, [u, pos, neg]).worst).toBeLessThanOrEqual(1);
    const short = randomTensor([2, 4], 22) as tf.Tensor2D;
    expect(() => bprGapFused(u, pos, short)).toThrow(/must be matrices of one shape, got \[3,4\] and \[2,4\]/);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([u, pos, neg])));
    expect(after).toEqual(before);
    tf.dispose([u, pos, neg, weights, short]);
  });

  it('SgfdBprRows gives each pair its gap and squared norms from table rows (repeats included), with finite-difference gradients', () => {
    // 20 columns: two full 8-column slices of the gradient's threads and a partial one.
    const users = tf.variable(randomTensor([4, 20], 23) as tf.Tensor2D);
    const items = tf.variable(randomTensor([5, 20], 24) as tf.Tensor2D);
    // User 1 twice, item 2 as a positive and a negative, item 3 both in one pair.
    const ids = {
      users: Int32Array.from([1, 0, 1, 3]),
      items: Int32Array.from([2, 4, 3, 0]),
      negItems: Int32Array.from([3, 2, 3, 1]),
    };
    const got = bprRowsFused(users, items, ids).arraySync();
    const [uv, iv] = [users.arraySync(), items.arraySync()];
    const dot = (a: number[], b: number[]) => a.reduce((acc, x, k) => acc + x * b[k], 0);
    ids.users.forEach((u, r) => {
      const [pu, pp, pn] = [uv[u], iv[ids.items[r]], iv[ids.negItems[r]]];
      expect(got[0][r]).toBeCloseTo(dot(pu, pn) - dot(pu, pp), 5);
      [pu, pp, pn].forEach((row, k) => expect(got[1 + k][r]).toBeCloseTo(dot(row, row), 4));
    });
    const weights = tf.tensor2d([
      [0.5, -1, 2, 0.25],
      [0.1, -0.2, 0.3, 0.05],
      [0.2, 0.1, -0.1, 0.3],
      [-0.3, 0.2, 0.1, 0.4],
    ]);
    const loss = () => tf.sum(tf.mul(tf.square(bprRowsFused(users, items, ids)), weights)) as tf.Scalar;
    expect(checkGradients(loss, [users, items]).worst).toBeLessThanOrEqual(1);
    const bad = { ...ids, negItems: Int32Array.from([3, 2, 5, 1]) };
    expect(() => bprRowsFused(users, items, bad)).toThrow(/neg_ids\[2\] = 5 is not a row of its 5-row table/);
    const narrow = randomTensor([5, 3], 25) as tf.Tensor2D;
    expect(() => bprRowsFused(users, narrow, ids)).toThrow(/one width, got \[4,20\] and \[5,3\]/);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([users, items])));
    expect(after).toEqual(before);
    tf.dispose([users, items, weights, narrow]);
  });

  it('SgfdBprSoftplus reduces the same terms to mean softplus(gap) and three sums of squares, with finite-difference gradients', () => {
    const users = tf.variable(tf.tidy(() => tf.mul(randomTensor([4, 20], 26), 3)) as tf.Tensor2D);
    const items = tf.variable(tf.tidy(() => tf.mul(randomTensor([5, 20], 27), 3)) as tf.Tensor2D);
    const ids = {
      users: Int32Array.from([1, 0, 1, 3, 2]),
      items: Int32Array.from([2, 4, 3, 0, 2]),
      negItems: Int32Array.from([3, 2, 3, 1, 4]),
    };
    const terms = bprRowsFused(users, items, ids).arraySync();
    // Gaps of both signs, so both branches of the stable softplus (and of its sigmoid) are taken.
    expect(Math.max(...terms[0])).toBeGreaterThan(1);
    expect(Math.min(...terms[0])).toBeLessThan(-1);
    const softplus = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
    const want = [
      terms[0].reduce((a, g) => a + softplus(g), 0) / 5,
      ...terms.slice(1).map((row) => row.reduce((a, v) => a + v, 0)),
    ];
    const got = bprSoftplusFused(users, items, ids).dataSync();
    want.forEach((w, k) => expect(got[k]).toBeCloseTo(w, 3));
    const weights = tf.tensor1d([1.5, -0.2, 0.3, 0.05]);
    const loss = () => tf.sum(tf.mul(bprSoftplusFused(users, items, ids), weights)) as tf.Scalar;
    expect(checkGradients(loss, [users, items]).worst).toBeLessThanOrEqual(1);
    const bad = { ...ids, users: Int32Array.from([1, 0, 4, 3, 2]) };
    expect(() => bprSoftplusFused(users, items, bad)).toThrow(/user_ids\[2\] = 4 is not a row of its 4-row table/);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([users, items])));
    expect(after).toEqual(before);
    tf.dispose([users, items, weights]);
  });

  /** CE of the teacher's logits, LD and FD written out with stock tfjs ops (what SgfdClassifierDistill must equal). */
  function referenceDistill(
    t: tf.Tensor2D,
    s: tf.Tensor2D,
    w: tf.Tensor2D,
    b: tf.Tensor1D,
    labels: tf.Tensor1D,
    tau: number,
    response: 'l1' | 'kl',
  ): tf.Tensor1D {
    return tf.tidy(() => {
      const zt = tf.add(tf.matMul(t, w), b);
      const zs = tf.add(tf.matMul(s, w), b);
      const oneHot = tf.oneHot(tf.cast(labels, 'int32'), w.shape[1]);
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(zt), oneHot), 1)));
      const [lt, ls] = [tf.logSoftmax(tf.div(zt, tau)), tf.logSoftmax(tf.div(zs, tau))];
      const ld =
        response === 'l1'
          ? tf.mean(tf.abs(tf.sub(tf.exp(lt), tf.exp(ls))))
          : tf.mul(tf.mean(tf.sum(tf.mul(tf.exp(lt), tf.sub(lt, ls)), 1)), tau * tau);
      return tf.stack([ce, ld, tf.mean(tf.squaredDifference(s, t))]) as tf.Tensor1D;
    });
  }

  for (const response of ['l1', 'kl'] as const)
    it(`SgfdClassifierDistill is CE, ${response} LD and FD written out over 70 rows (two blocks), with finite-difference gradients in every input`, () => {
      const [n, d, c, tau] = [70, 5, 4, 2];
      const t = tf.variable(tf.tidy(() => tf.mul(randomTensor([n, d], 40), 2)) as tf.Tensor2D);
      const s = tf.variable(tf.tidy(() => tf.mul(randomTensor([n, d], 41), 2)) as tf.Tensor2D);
      const w = tf.variable(randomTensor([d, c], 42) as tf.Tensor2D);
      const b = tf.variable(randomTensor([c], 43) as tf.Tensor1D);
      const labels = tf.tensor1d(
        Array.from({ length: n }, (_, i) => (i * 7) % c),
        'int32',
      );
      const vars = [t, s, w, b];
      const want = referenceDistill(t, s, w, b, labels, tau, response);
      const got = classifierDistillFused(t, s, w, b, labels, tau, response);
      expect(maxRelativeError(got.dataSync(), want.dataSync())).toBeLessThan(1e-5);
      const weights = tf.tensor1d([0.7, 1.9, -1.3]);
      const weighted = (f: () => tf.Tensor1D) => () => tf.sum(tf.mul(f(), weights)) as tf.Scalar;
      const fused = weighted(() => classifierDistillFused(t, s, w, b, labels, tau, response));
      const written = weighted(() => referenceDistill(t, s, w, b, labels, tau, response));
      const gotGrads = tf.variableGrads(fused, vars);
      const wantGrads = tf.variableGrads(written, vars);
      for (const v of vars)
        expect(maxRelativeError(gotGrads.grads[v.name].dataSync(), wantGrads.grads[v.name].dataSync())).toBeLessThan(
          1e-4,
        );
      expect(checkGradients(fused, vars).worst).toBeLessThanOrEqual(1);
      // Without a student: CE alone, and no gradient reaches the student.
      const alone = classifierDistillFused(t, null, w, b, labels, tau, response).dataSync();
      expect(alone[0]).toBeCloseTo(want.dataSync()[0], 5);
      expect([alone[1], alone[2]]).toEqual([0, 0]);
      const ceOnly = () => classifierDistillFused(t, null, w, b, labels, tau, response).sum() as tf.Scalar;
      expect(checkGradients(ceOnly, [t, w, b]).worst).toBeLessThanOrEqual(1);
      const bad = tf.tensor1d([...labels.dataSync().slice(0, 3), 4, ...labels.dataSync().slice(4)], 'int32');
      expect(() => classifierDistillFused(t, s, w, b, bad, tau, response)).toThrow(
        /labels\[3\] = 4 is not a category of the 4-column classifier/,
      );
      const short = tf.tidy(() => tf.slice(s, [0, 0], [n - 1, d])) as tf.Tensor2D;
      expect(() => classifierDistillFused(t, short, w, b, labels, tau, response)).toThrow(
        /student \[N, D\] or \[0, D\]/,
      );
      const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => fused())([t, s, w, b])));
      expect(after).toEqual(before);
      tf.dispose([
        ...vars,
        labels,
        want,
        got,
        weights,
        bad,
        short,
        ...Object.values(gotGrads.grads),
        ...Object.values(wantGrads.grads),
      ]);
      tf.dispose([gotGrads.value, wantGrads.value]);
    });

  it('SgfdTopK equals the JavaScript topK: best first, ties to the lower column, NaN last, k capped', () => {
    // Row 0 has a tie at 3 (columns 1 and 4) and a NaN; row 1 is all equal; 300 columns in row 2 and 3.
    const cols = 300;
    const data = new Float32Array(4 * cols);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 100;
    data.set([1, 3, Number.NaN, -2, 3, 0.5], 0);
    data.fill(0, cols, 2 * cols);
    const x = tf.tensor2d(data, [4, cols]);
    for (const k of [1, 5, 10]) {
      const got = topKRows(x, k);
      const want = topK(data, 4, cols, k);
      expect(Array.from(got.indices.dataSync())).toEqual(Array.from(want.indices));
      expect(Array.from(got.values.dataSync())).toEqual(Array.from(want.values));
      tf.dispose([got.values, got.indices]);
    }
    const small = tf.tensor2d([[2, Number.NaN, 2]]);
    const all = topKRows(small, 7);
    expect([all.values.shape, Array.from(all.indices.dataSync())]).toEqual([
      [1, 3],
      [0, 2, 1],
    ]);
    expect(() => topKRows(small, 0)).toThrow(/k must be a positive integer, got 0/);
    const { before, after } = liveCountsAcross(() => {
      const t = topKRows(x, 3);
      tf.dispose([t.values, t.indices]);
    });
    expect(after).toEqual(before);
    tf.dispose([x, small, all.values, all.indices]);
  });

  it('SgfdMamlHidden is sigmoid((u + p) / n + bias2) over [B, K] pairs, with finite-difference gradients in every input', () => {
    const positive = (t: tf.Tensor) => tf.tidy(() => tf.add(tf.abs(t), 0.5));
    const u = tf.variable(randomTensor([3, 4], 23) as tf.Tensor2D);
    const p = tf.variable(randomTensor([3, 2, 4], 24) as tf.Tensor3D);
    const uSq = tf.variable(positive(randomTensor([3], 25)) as tf.Tensor1D);
    const pSq = tf.variable(positive(randomTensor([3, 2], 26)) as tf.Tensor2D);
    const bias = tf.variable(randomTensor([4], 27) as tf.Tensor1D);
    const reference = () =>
      tf.sigmoid(
        tf.add(
          tf.div(tf.add(tf.expandDims(u, 1), p), tf.expandDims(tf.sqrt(tf.add(tf.expandDims(uSq, 1), pSq)), 2)),
          bias,
        ),
      );
    const got = mamlHiddenFused(u, p, uSq, pSq, bias);
    const want = reference();
    expect(got.shape).toEqual([3, 2, 4]);
    expect(maxRelativeError(got.dataSync(), want.dataSync())).toBeLessThan(1e-5);
    const weights = randomTensor([3, 2, 4], 28);
    const loss = () => tf.sum(tf.mul(tf.square(mamlHiddenFused(u, p, uSq, pSq, bias)), weights)) as tf.Scalar;
    expect(checkGradients(loss, [u, p, uSq, pSq, bias]).worst).toBeLessThanOrEqual(1);
    const bad = randomTensor([3, 3], 29) as tf.Tensor2D;
    expect(() => mamlHiddenFused(u, p, uSq, bad, bias)).toThrow(/inconsistent shapes .*item_sq \[3,3\]/);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([u, p, uSq, pSq, bias])));
    expect(after).toEqual(before);
    tf.dispose([u, p, uSq, pSq, bias, got, want, weights, bad]);
  });

  it('SgfdOuterProductAdam is ResourceApplyAdam on rows^T productGrad, step after step, and leaves a shared buffer alone', () => {
    // 70 rows leave 4 after the kernel's 6-row blocks; 40 columns end in a half panel of 16.
    for (const [p, q, n] of [
      [13, 37, 5],
      [70, 40, 9],
    ]) {
      const start = randomTensor([p, q], 30);
      const [stock, fused] = [tf.variable(start.clone()), tf.variable(start.clone())];
      const [stockSlot, fusedSlot] = [new FusedAdamSlot([p, q]), new FusedAdamSlot([p, q])];
      const earlier = fused.clone();
      for (let step = 1; step <= 3; step++) {
        const rows = randomTensor([n, p], 31 + step) as tf.Tensor2D;
        const productGrad = randomTensor([n, q], 41 + step) as tf.Tensor2D;
        const inputs = FusedAdamSlot.stepInputs({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step });
        const grad = tf.matMul(rows, productGrad, true, false);
        stockSlot.update(stock, grad, inputs);
        fusedSlot.updateFromOuterProduct(fused, rows, productGrad, inputs);
        tf.dispose([rows, productGrad, grad, ...inputs]);
      }
      expect(maxRelativeError(fused.dataSync(), stock.dataSync())).toBeLessThan(1e-5);
      const [got, want] = [fusedSlot.readMoments(), stockSlot.readMoments()];
      expect(maxRelativeError(got.m, want.m)).toBeLessThan(1e-5);
      expect(maxRelativeError(got.v, want.v)).toBeLessThan(1e-5);
      // `earlier` shared the variable's first buffer: the op updated a copy.
      expect(firstDifference(earlier.dataSync(), start.dataSync())).toBe(-1);
      expect(firstDifference(fused.dataSync(), start.dataSync())).not.toBe(-1);
      stockSlot.dispose();
      fusedSlot.dispose();
      tf.dispose([start, stock, fused, earlier]);
    }
  });

  it('SgfdOuterProductAdam names inconsistent shapes and leaks nothing', () => {
    const start = randomTensor([6, 8], 50);
    const w = tf.variable(start.clone());
    const slot = new FusedAdamSlot([6, 8]);
    const inputs = FusedAdamSlot.stepInputs({ learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 1 });
    const rows = randomTensor([4, 6], 51) as tf.Tensor2D;
    const productGrad = randomTensor([3, 8], 52) as tf.Tensor2D;
    expect(() => slot.updateFromOuterProduct(w, rows, productGrad, inputs)).toThrow(
      /SgfdOuterProductAdam: rows \[4,6\] and product_grad \[3,8\] are not \[N, P\] and \[N, Q\]/,
    );
    const wide = randomTensor([4, 7], 53) as tf.Tensor2D;
    const good = randomTensor([4, 8], 54) as tf.Tensor2D;
    expect(() => slot.updateFromOuterProduct(w, wide, good, inputs)).toThrow(
      /variable 0 is not an initialised \[7, 8\]/,
    );
    // A failed update leaves the weights as they were.
    expect(firstDifference(w.dataSync(), start.dataSync())).toBe(-1);
    const three = rows.slice(0, 3);
    const { before, after } = liveCountsAcross(() => slot.updateFromOuterProduct(w, three, productGrad, inputs));
    expect(after).toEqual(before);
    slot.dispose();
    tf.dispose([w, start, rows, three, productGrad, wide, good, ...inputs]);
  });

  it('are unavailable when switched off or off the native engine', async () => {
    setCustomOpsEnabled(false);
    expect(customOpsAvailable()).toBe(false);
    const x = inputs(1, 1, 2, 2);
    expect(() => mamlScores(x)).toThrow(/SgfdMamlScores is not available/);
    tf.dispose(tensorsOf(x));
    setCustomOpsEnabled(true);
    await useBackend('wasm');
    expect(customOpsAvailable()).toBe(false);
    await useBackend('tensorflow');
    expect(customOpsAvailable()).toBe(true);
  });
});
