import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../backend';
import {
  compareValueAndGradient,
  liveCounts,
  liveCountsAcross,
  maxRelativeError,
  randomTensor,
  randomValues,
  referenceMatMul,
  transposeValues,
  useBackend,
} from '../testing';
import { tf } from '../tf';
import { registerCustomKernels } from '.';
import { cacheTranspose, cachedTransposeCount, releaseTranspose } from './batch-matmul';
import { isOverridden, restoreStockKernel } from './registry';

function referenceSegmentSum(x: Float32Array, dim: number, ids: number[], numSegments: number): Float64Array {
  const out = new Float64Array(numSegments * dim);
  ids.forEach((s, i) => {
    if (s < 0) return;
    for (let j = 0; j < dim; j++) out[s * dim + j] += x[i * dim + j];
  });
  return out;
}

function referenceGather(x: Float32Array, dim: number, ids: number[]): Float32Array {
  const out = new Float32Array(ids.length * dim);
  ids.forEach((r, i) => out.set(x.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

describe.each<BackendName>(['cpu', 'wasm'])('custom kernels on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('registers the overrides for the backend', () => {
    expect(isOverridden('UnsortedSegmentSum', backend)).toBe(true);
    expect(isOverridden('GatherV2', backend)).toBe(true);
    expect(isOverridden('Transpose', backend)).toBe(true);
    expect(isOverridden('BatchMatMul', backend)).toBe(backend === 'wasm');
    expect(isOverridden('Identity', backend)).toBe(backend === 'wasm');
    expect(isOverridden('Cast', backend)).toBe(backend === 'wasm');
    expect(isOverridden('Sum', backend)).toBe(backend === 'wasm');
  });

  it('Sum over leading axes (and every other reduction) matches a plain-loop sum, with and without keepDims', () => {
    const shape = [4, 3, 5];
    const values = randomValues(60, 21);
    const x = tf.tensor3d(values, shape as [number, number, number]);
    const reference = (axes: number[]) => {
      const out = new Map<string, number>();
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 3; j++)
          for (let k = 0; k < 5; k++) {
            const key = [i, j, k].filter((_, a) => !axes.includes(a)).join(',');
            out.set(key, (out.get(key) ?? 0) + values[(i * 3 + j) * 5 + k]);
          }
      return [...out.values()];
    };
    for (const [axis, axes] of [
      [0, [0]],
      [
        [0, 1],
        [0, 1],
      ],
      [
        [1, 0],
        [0, 1],
      ],
      [-3, [0]],
      [1, [1]],
      [2, [2]],
      [
        [0, 2],
        [0, 2],
      ],
    ] as const) {
      for (const keepDims of [false, true]) {
        const sum = tf.sum(x, axis as number | number[], keepDims);
        expect(sum.shape).toEqual(
          keepDims
            ? shape.map((n, a) => ((axes as readonly number[]).includes(a) ? 1 : n))
            : shape.filter((_, a) => !(axes as readonly number[]).includes(a)),
        );
        expect(maxRelativeError(sum.dataSync(), reference([...axes]))).toBeLessThan(1e-5);
        sum.dispose();
      }
    }
    const ints = tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0);
    expect([ints.dtype, ...ints.dataSync()]).toEqual(['int32', 4, 6]);
    const bias = tf.tidy(() => tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(x, b), x)))(tf.zeros([5])));
    expect(maxRelativeError(bias.dataSync(), reference([0, 1]))).toBeLessThan(1e-5);
    tf.dispose([x, ints, bias]);
  });

  it('transposed products with a marked constant matrix reuse one cached transpose until it is released; over the size cap nothing is cached', () => {
    const [n, k, m] = [70, 9, 4];
    const fValues = randomValues(n * k, 31);
    const f = tf.tensor2d(fValues, [n, k]);
    cacheTranspose(f);
    const want = (dyValues: Float32Array) => referenceMatMul(fValues, [n, k], true, dyValues, [n, m], false).values;
    for (const seed of [32, 33]) {
      const dyValues = randomValues(n * m, seed);
      const got = tf.tidy(() => tf.matMul(f, tf.tensor2d(dyValues, [n, m]), true, false));
      expect(maxRelativeError(got.dataSync(), want(dyValues))).toBeLessThan(1e-5);
      got.dispose();
      expect(cachedTransposeCount()).toBe(backend === 'wasm' ? 1 : 0);
    }
    // A reshape shares the data but is another matrix: it must not read the cached transpose.
    const reshaped = tf.tidy(() => tf.matMul(tf.reshape(f, [k, n]), tf.ones([k, 2]), true, false));
    const ones = new Float32Array(k * 2).fill(1);
    expect(
      maxRelativeError(reshaped.dataSync(), referenceMatMul(fValues, [k, n], true, ones, [k, 2], false).values),
    ).toBeLessThan(1e-5);
    reshaped.dispose();
    const buffers = liveCounts().dataIds;
    releaseTranspose(f);
    expect(cachedTransposeCount()).toBe(0);
    expect(liveCounts().dataIds).toBe(buffers - (backend === 'wasm' ? 1 : 0));
    f.dispose();
    const big = tf.zeros([8, 8]);
    cacheTranspose(big, 100);
    tf.tidy(() => tf.matMul(big, tf.ones([8, 1]), true, false));
    expect(cachedTransposeCount()).toBe(0);
    big.dispose();
  });

  it('clones and same-dtype casts share the data until the last holder is disposed; other casts convert, to bool as x != 0', () => {
    const x = tf.tensor2d([
      [1.5, -2],
      [3, 4.25],
    ]);
    const buffers = tf.memory().numDataBuffers;
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1.5, -2, 3, 4.25]);
    copy.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 3, 4.25]);
    const ints = tf.cast(same, 'int32');
    const bools = tf.cast(ints, 'bool');
    expect([ints.dtype, ...ints.dataSync()]).toEqual(['int32', 1, -2, 3, 4]);
    expect([bools.dtype, ...bools.dataSync()]).toEqual(['bool', 1, 1, 1, 1]);
    const zeros = tf.cast(tf.tensor1d([0, 0.5, -0]), 'bool');
    expect(Array.from(zeros.dataSync())).toEqual([0, 1, 0]);
    zeros.dispose();
    same.dispose();
    expect(Array.from(tf.cast(bools, 'float32').dataSync())).toEqual([1, 1, 1, 1]);
    tf.dispose([ints, bools]);
  });

  it('a clone of a variable keeps its value when the variable is assigned', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, snapshot]);
  });

  it('UnsortedSegmentSum sums rows into segments, drops negative ids, leaves empty segments 0', () => {
    const ids = [3, 0, 3, -1, 5, 0, 3];
    const xValues = randomValues(7 * 2 * 3, 1);
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(xValues, [7, 2, 3]), tf.tensor1d(ids, 'int32'), 6));
    expect(out.shape).toEqual([6, 2, 3]);
    expect(maxRelativeError(out.dataSync(), referenceSegmentSum(xValues, 6, ids, 6))).toBeLessThan(1e-6);
    out.dispose();
    expect(() => tf.unsortedSegmentSum(tf.ones([2, 2]), tf.tensor1d([0, 2], 'int32'), 2)).toThrow(
      /segment id 2 at 1 is not below 2/,
    );
  });

  it('GatherV2 along axis 0 copies rows for every row width, dtype and index shape', () => {
    for (const dim of [1, 8, 64, 300]) {
      const xValues = randomValues(50 * dim, dim);
      const ids = [49, 0, 7, 7, 23, 49, 1];
      const out = tf.tidy(() => tf.gather(tf.tensor(xValues, [50, dim]), tf.tensor1d(ids, 'int32')));
      expect(out.shape).toEqual([7, dim]);
      expect(out.dataSync()).toEqual(referenceGather(xValues, dim, ids));
      out.dispose();
    }
    const ints = tf.tidy(() =>
      tf.gather(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        tf.tensor2d(
          [
            [2, 0],
            [1, 1],
          ],
          [2, 2],
          'int32',
        ),
      ),
    );
    expect(ints.shape).toEqual([2, 2, 2]);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([5, 6, 1, 2, 3, 4, 3, 4]);
    ints.dispose();
    expect(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([3], 'int32'))).toThrow(/index value 3 is not in \[0, 2\]/);
  });

  it('GatherV2 along other axes still works (stock kernel)', () => {
    const out = tf.tidy(() =>
      tf.gather(
        tf.tensor2d([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        tf.tensor1d([2, 0], 'int32'),
        1,
      ),
    );
    expect(Array.from(out.dataSync())).toEqual([3, 1, 6, 4]);
    out.dispose();
  });

  it('Transpose shares data for the identity permutation and swaps the last two axes of batches', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const same = tf.transpose(x, [0, 1]);
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1, 2, 3, 4]);
    same.dispose();
    const xValues = randomValues(3 * 70 * 90, 2);
    const swapped = tf.tidy(() => tf.transpose(tf.tensor3d(xValues, [3, 70, 90]), [0, 2, 1]));
    expect(swapped.shape).toEqual([3, 90, 70]);
    const values = swapped.dataSync();
    for (const [b, i, j] of [
      [0, 0, 0],
      [1, 69, 89],
      [2, 13, 77],
      [2, 64, 64],
    ]) {
      expect(values[b * 6300 + j * 70 + i]).toBe(xValues[b * 6300 + i * 90 + j]);
    }
    swapped.dispose();
    for (const [rows, cols] of [
      [1, 5],
      [5, 1],
      [65, 130],
      [130, 65],
    ]) {
      const values = randomValues(rows * cols, rows + cols);
      const t = tf.tidy(() => tf.transpose(tf.tensor2d(values, [rows, cols])));
      expect(t.shape).toEqual([cols, rows]);
      expect(Array.from(t.dataSync())).toEqual(Array.from(transposeValues(values, rows, cols), Math.fround));
      t.dispose();
    }
    const ints = tf.tidy(() => tf.transpose(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32')));
    expect([ints.dtype, ...ints.dataSync()]).toEqual(['int32', 1, 4, 2, 5, 3, 6]);
    ints.dispose();
    const other = tf.tidy(() => tf.transpose(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), [1, 0, 2]));
    expect(Array.from(other.dataSync())).toEqual([1, 2, 5, 6, 3, 4, 7, 8]);
    other.dispose();
  });

  it('matMul with every transpose combination matches a plain-loop product, values and gradients', () => {
    const [m, k, n] = [5, 7, 3];
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const aShape: [number, number] = tA ? [k, m] : [m, k];
      const bShape: [number, number] = tB ? [n, k] : [k, n];
      const a = randomTensor(aShape, 3);
      const b = randomTensor(bShape, 4);
      const r = randomTensor([m, n], 5);
      const loss = (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, tA, tB), r));
      const product = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB);
      const aValues = a.dataSync();
      const bValues = b.dataSync();
      expect(
        maxRelativeError(product.dataSync(), referenceMatMul(aValues, aShape, tA, bValues, bShape, tB).values),
      ).toBeLessThan(1e-5);
      // d/dA sum(op(A) op(B) * R) = R op(B)^T, transposed back when A was; likewise for B.
      const [gradA, gradB] = tf.grads(loss)([a, b]);
      const rValues = r.dataSync();
      const dOpA = referenceMatMul(rValues, [m, n], false, bValues, bShape, !tB); // [m, k]
      const dOpB = referenceMatMul(aValues, aShape, !tA, rValues, [m, n], false); // [k, n]
      const expectA = tA ? transposeValues(dOpA.values, m, k) : dOpA.values;
      const expectB = tB ? transposeValues(dOpB.values, k, n) : dOpB.values;
      expect(maxRelativeError(gradA.dataSync(), expectA)).toBeLessThan(1e-5);
      expect(maxRelativeError(gradB.dataSync(), expectB)).toBeLessThan(1e-5);
      tf.dispose([a, b, r, product, gradA, gradB]);
    }
  });

  it('batched matMul with transposes matches per-matrix products', () => {
    const a = randomTensor([3, 6, 4], 6);
    const b = randomTensor([3, 5, 6], 7);
    const out = tf.matMul(a, b, true, true); // [3, 4, 5]
    const av = a.dataSync();
    const bv = b.dataSync();
    const values = out.dataSync();
    for (let batch = 0; batch < 3; batch++) {
      const expected = referenceMatMul(
        av.subarray(batch * 24, batch * 24 + 24),
        [6, 4],
        true,
        bv.subarray(batch * 30, batch * 30 + 30),
        [5, 6],
        true,
      );
      expect(maxRelativeError(values.subarray(batch * 20, batch * 20 + 20), expected.values)).toBeLessThan(1e-5);
    }
    tf.dispose([a, b, out]);
  });

  it('the gradient of gather equals that of the dense one-hot product it stands for', () => {
    // gather(E, idx) = oneHot(idx) E, so both models must give the same loss and the same dE.
    const nRows = 40;
    const dim = 16;
    const idx = tf.tensor1d([3, 17, 3, 39, 0, 17, 3, 22], 'int32');
    const e = randomTensor([nRows, dim], 8);
    const w = randomTensor([8, dim], 9);
    const gatherLoss = (x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, idx), w));
    const denseLoss = (x: tf.Tensor) => tf.sum(tf.mul(tf.matMul(tf.oneHot(idx, nRows).toFloat(), x as tf.Tensor2D), w));
    const compared = compareValueAndGradient(gatherLoss, denseLoss, e);
    expect(compared.actual).toBeCloseTo(compared.expected, 4);
    expect(compared.gradientError).toBeLessThan(1e-6);
    tf.dispose([idx, e, w]);
  });

  it('UnsortedSegmentSum equals the stock kernel where there is one', () => {
    const ids = [1, 4, 4, 0, -1, 2, 1];
    const x = randomTensor([7, 5], 10);
    const segmentIds = tf.tensor1d(ids, 'int32');
    const custom = tf.unsortedSegmentSum(x, segmentIds, 5);
    restoreStockKernel('UnsortedSegmentSum', backend);
    try {
      if (backend === 'wasm') {
        expect(() => tf.unsortedSegmentSum(x, segmentIds, 5)).toThrow(/not registered/);
      } else {
        const stock = tf.unsortedSegmentSum(x, segmentIds, 5);
        expect(maxRelativeError(custom.dataSync(), stock.dataSync())).toBeLessThan(1e-6);
        stock.dispose();
      }
    } finally {
      registerCustomKernels(backend);
    }
    expect(isOverridden('UnsortedSegmentSum', backend)).toBe(true);
    tf.dispose([x, segmentIds, custom]);
  });

  it('leaves no tensors or buffers behind across repeated ops and gradients', () => {
    const e = tf.variable(randomTensor([30, 8], 11) as tf.Tensor2D);
    const idx = tf.tensor1d([1, 5, 5, 29], 'int32');
    const w = randomTensor([8, 6], 12) as tf.Tensor2D;
    const step = () =>
      tf
        .tidy(() => {
          const { value, grads } = tf.variableGrads(() =>
            tf.sum(tf.matMul(tf.gather(e, idx), w, false, false).matMul(w, false, true)),
          );
          tf.unsortedSegmentSum(
            e,
            tf.tensor1d(
              Array.from({ length: 30 }, (_, i) => i % 4),
              'int32',
            ),
            4,
          );
          tf.matMul(e, e, true, false);
          return tf.add(value, tf.sum(grads[e.name]));
        })
        .dispose();
    const { before, after } = liveCountsAcross(step);
    expect(after).toEqual(before);
    tf.dispose([e, idx, w]);
  });

  afterAll(() => tf.disposeVariables());
});
