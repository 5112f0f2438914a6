import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FusedAdamSlot } from '../native/fused-adam';
import { runNativeOp, sparseSoftmaxCrossEntropy, sumOfSquaresNative, unsortedSegmentMax } from '../native/native-ops';
import { checkGradients } from '../finite-differences';
import { liveCounts, liveCountsAcross, maxRelativeError, randomTensor, randomValues, useBackend } from '../testing';
import { tf } from '../tf';
import { MAX_SWAPPED_COLUMNS, MIN_SWAPPED_LEFT_SIZE, swapsTransposedProduct } from './native-batch-matmul';
import { nativeGatherV2 } from './native-gather';
import { isOverridden, restoreStockKernel } from './registry';
import { registerCustomKernels } from '.';

describe('kernels on the tensorflow backend', () => {
  beforeAll(() => useBackend('tensorflow'));

  it('overrides only GatherV2, BatchMatMul, Cast, Reshape, Transpose and Step: TensorFlow has the rest natively', () => {
    for (const name of ['GatherV2', 'BatchMatMul', 'Cast', 'Reshape', 'Transpose', 'Step'])
      expect(isOverridden(name, 'tensorflow')).toBe(true);
    for (const name of ['UnsortedSegmentSum', 'Identity', 'Sum']) expect(isOverridden(name, 'tensorflow')).toBe(false);
  });

  it('GatherV2 equals the stock tfjs-node kernel on every axis, dtype and index shape', () => {
    const x = tf.tensor3d(randomValues(4 * 5 * 6, 1), [4, 5, 6]);
    const cases: Array<[tf.Tensor, tf.Tensor, number]> = [
      [x, tf.tensor1d([3, 0, 3, 1], 'int32'), 0],
      [
        x,
        tf.tensor2d(
          [
            [4, 0],
            [2, 2],
          ],
          [2, 2],
          'int32',
        ),
        1,
      ],
      [x, tf.tensor1d([5, 1], 'int32'), 2],
      [
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        tf.tensor1d([2, 0], 'int32'),
        0,
      ],
    ];
    const ours = cases.map(([t, i, axis]) => tf.gather(t, i, axis));
    restoreStockKernel('GatherV2', 'tensorflow');
    try {
      const stock = cases.map(([t, i, axis]) => tf.gather(t, i, axis));
      ours.forEach((o, k) => {
        expect(o.shape).toEqual(stock[k].shape);
        expect(o.dtype).toBe(stock[k].dtype);
        expect(Array.from(o.dataSync())).toEqual(Array.from(stock[k].dataSync()));
      });
      tf.dispose(stock);
    } finally {
      registerCustomKernels('tensorflow');
    }
    expect(nativeGatherV2).toBeTypeOf('function');
    tf.dispose([...ours, ...cases.flatMap(([t, i]) => [t, i])]);
  });

  it('BatchMatMul equals the stock kernel for every transpose flag, swapped (a^T b, narrow b) or not', () => {
    // [a shape, b shape, transposeA, transposeB]; the a^T b cases with b narrower than a large a take the
    // swapped path (the first two; asserted below).
    const rows = Math.ceil(MIN_SWAPPED_LEFT_SIZE / 300);
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[rows, 300], [rows, 5], true, false],
      [[2, Math.ceil(rows / 2), 300], [2, Math.ceil(rows / 2), 5], true, false],
      [[37, 300], [37, 5], true, false],
      [[rows, 300], [rows, MAX_SWAPPED_COLUMNS + 1], true, false],
      [[37, 5], [37, 300], true, false],
      [[30, 37], [37, 5], false, false],
      [[30, 37], [5, 37], false, true],
      [[37, 30], [5, 37], true, true],
    ];
    expect(cases.map(([sa, sb, ta, tb]) => swapsTransposedProduct(sa, sb, ta, tb))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    const inputs = cases.map(([sa, sb], k) => [randomTensor(sa, 10 + k), randomTensor(sb, 20 + k)] as const);
    const ours = cases.map(([, , ta, tb], k) => tf.matMul(inputs[k][0], inputs[k][1], ta, tb));
    restoreStockKernel('BatchMatMul', 'tensorflow');
    try {
      const stock = cases.map(([, , ta, tb], k) => tf.matMul(inputs[k][0], inputs[k][1], ta, tb));
      ours.forEach((o, k) => {
        expect(o.shape).toEqual(stock[k].shape);
        // Float32 sums over up to 1,748 rows, blocked differently by the two products.
        expect(maxRelativeError(o.dataSync(), stock[k].dataSync())).toBeLessThan(1e-4);
      });
      tf.dispose(stock);
    } finally {
      registerCustomKernels('tensorflow');
    }
    tf.dispose([...ours, ...inputs.flat()]);
  });

  it('the weight gradient through the swapped product is the hand-computed one and leaks nothing', () => {
    const x = randomTensor([Math.ceil(MIN_SWAPPED_LEFT_SIZE / 70), 70], 31);
    const w = tf.variable(randomTensor([70, 4], 32));
    const target = randomTensor([x.shape[0], 4], 33);
    expect(swapsTransposedProduct(x.shape, target.shape, true, false)).toBe(true);
    const loss = () => tf.sum(tf.square(tf.sub(tf.matMul(x, w), target))) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, [w]);
    // d/dW sum((XW - T)^2) = 2 X^T (XW - T), with the transpose made explicitly (a plain product).
    const expected = tf.tidy(() => tf.mul(2, tf.matMul(tf.transpose(x), tf.sub(tf.matMul(x, w), target))));
    expect(maxRelativeError(grads[w.name].dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    tf.dispose([value, expected, ...Object.values(grads)]);
    const { before, after } = liveCountsAcross(() => {
      const step = tf.variableGrads(loss, [w]);
      tf.dispose([step.value, ...Object.values(step.grads)]);
    });
    expect(after).toEqual(before);
    tf.dispose([x, w, target]);
  });

  it('Cast to the same dtype shares the data; other casts convert', () => {
    const x = tf.tensor1d([1.5, -2.25, 0]);
    const same = tf.cast(x, 'float32');
    const backend = tf.backend() as tf.KernelBackend & { refCount(dataId: object): number };
    expect(same.dataId).toBe(x.dataId);
    expect(backend.refCount(x.dataId)).toBe(2);
    const ints = tf.cast(x, 'int32');
    const bools = tf.cast(x, 'bool');
    expect([ints.dtype, Array.from(ints.dataSync())]).toEqual(['int32', [1, -2, 0]]);
    expect([bools.dtype, Array.from(bools.dataSync())]).toEqual(['bool', [1, 1, 0]]);
    same.dispose();
    expect(backend.refCount(x.dataId)).toBe(1);
    expect(Array.from(x.dataSync())).toEqual([1.5, -2.25, 0]);
    tf.dispose([x, ints, bools]);
  });

  it('Reshape to the same shape shares the data; other reshapes reshape', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const backend = tf.backend() as tf.KernelBackend & { refCount(dataId: object): number };
    const same = tf.reshape(x, [-1, 3]);
    expect([same.dataId, same.shape]).toEqual([x.dataId, [2, 3]]);
    expect(backend.refCount(x.dataId)).toBe(2);
    const other = tf.reshape(x, [3, 2]);
    expect(other.dataId).not.toBe(x.dataId);
    expect(other.arraySync()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    // TensorFlow sees the reshaped handle's own shape: a product with it has the new shape's result.
    expect(tf.matMul(other, tf.ones([2, 1])).arraySync()).toEqual([[3], [7], [11]]);
    same.dispose();
    expect(backend.refCount(x.dataId)).toBe(1);
    expect(() => tf.reshape(x, [4, 2])).toThrow(/Size\(6\) must match the product of shape 4,2/);
    tf.dispose([x, other]);
  });

  it('Transpose by the identity shares the data; other permutations transpose', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const backend = tf.backend() as tf.KernelBackend & { refCount(dataId: object): number };
    const same = tf.transpose(x, [0, 1, 2]);
    expect([same.dataId, same.shape]).toEqual([x.dataId, [1, 2, 3]]);
    expect(backend.refCount(x.dataId)).toBe(2);
    const swapped = tf.transpose(x, [0, 2, 1]);
    expect(swapped.arraySync()).toEqual([
      [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    ]);
    same.dispose();
    expect(backend.refCount(x.dataId)).toBe(1);
    tf.dispose([x, swapped]);
  });

  it('Step is 1 above zero, alpha at or below it, NaN kept; Relu and Abs gradients through it; no leaks', () => {
    const x = tf.tensor1d([-2, -0, 0, 1e-30, 3, NaN, -Infinity, Infinity]);
    expect(Array.from(tf.step(x, -0.5).dataSync())).toEqual([-0.5, -0.5, -0.5, 1, 1, NaN, -0.5, 1]);
    expect(Array.from(tf.step(x).dataSync())).toEqual([0, 0, 0, 1, 1, NaN, 0, 1]);
    const v = tf.tensor1d([-1.5, 0.5, 2, -3]);
    expect(
      Array.from(
        tf
          .grad((t: tf.Tensor) => tf.sum(tf.abs(t)))(v)
          .dataSync(),
      ),
    ).toEqual([-1, 1, 1, -1]);
    expect(
      Array.from(
        tf
          .grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(v)
          .dataSync(),
      ),
    ).toEqual([0, 1, 1, 0]);
    const big = randomTensor([300, 70], 21);
    tf.step(big).dispose(); // tfjs-node uploads a tensor's values to TensorFlow at their first use
    const before = liveCounts();
    const native = tf.step(big, -1);
    restoreStockKernel('Step', 'tensorflow');
    const stock = tf.step(big, -1);
    registerCustomKernels('tensorflow');
    expect(Array.from(native.dataSync())).toEqual(Array.from(stock.dataSync()));
    tf.dispose([native, stock]);
    expect(liveCounts()).toEqual(before);
    tf.dispose([x, v, big]);
  });

  it('sumOfSquaresNative is sum(x^2) (hand-computed) with finite-difference gradients, and leaks nothing', () => {
    const x = tf.variable(
      tf.tensor2d([
        [1, -2],
        [0.5, 3],
      ]),
    );
    expect(sumOfSquaresNative(x).dataSync()[0]).toBeCloseTo(1 + 4 + 0.25 + 9, 5);
    const [g] = tf.grads((t: tf.Tensor) => tf.mul(sumOfSquaresNative(t), 3))([x]);
    expect(Array.from(g.dataSync())).toEqual([6, -12, 3, 18]);
    const loss = () => tf.square(sumOfSquaresNative(x)) as tf.Scalar;
    expect(checkGradients(loss, [x]).worst).toBeLessThanOrEqual(1);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grads(() => loss())([x])));
    expect(after).toEqual(before);
    tf.dispose([x, g]);
  });

  it('sparseSoftmaxCrossEntropy gives -log softmax at the label (hand-computed) and its gradient, and rejects a bad label', () => {
    const logits = tf.variable(
      tf.tensor2d([
        [1, 2, 0.5],
        [-1, 0, 3],
      ]),
    );
    const labels = tf.tensor1d([1, 0], 'int32');
    const lse = (row: number[]) => Math.log(row.reduce((acc, x) => acc + Math.exp(x), 0));
    const rows = [
      [1, 2, 0.5],
      [-1, 0, 3],
    ];
    const loss = sparseSoftmaxCrossEntropy(logits, labels).dataSync();
    expect(loss[0]).toBeCloseTo(lse(rows[0]) - 2, 6);
    expect(loss[1]).toBeCloseTo(lse(rows[1]) + 1, 6);
    const weights = tf.tensor1d([0.5, -2]);
    const check = checkGradients(
      () => tf.sum(tf.mul(sparseSoftmaxCrossEntropy(logits, labels), weights)) as tf.Scalar,
      [logits],
    );
    expect(check.worst).toBeLessThanOrEqual(1);
    const bad = tf.tensor1d([1, 3], 'int32');
    expect(() => sparseSoftmaxCrossEntropy(logits, bad)).toThrow(/label value of 3 which is outside the valid range/);
    tf.dispose([logits, labels, weights, bad]);
  });

  it('GatherV2 rejects an out-of-range index through TensorFlow, naming it', () => {
    const x = tf.ones([3, 2]);
    const bad = tf.tensor1d([1, 3], 'int32');
    expect(() => tf.gather(x, bad)).toThrow(/indices\[1\] = 3 is not in \[0, 3\)/);
    tf.dispose([x, bad]);
  });

  it('the gradient of gather is the dense one-hot product gradient', () => {
    const idx = tf.tensor1d([3, 17, 3, 39, 0, 17], 'int32');
    const e = randomTensor([40, 8], 2);
    const w = randomTensor([6, 8], 3);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, idx), w)))(e);
    const dense = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(tf.matMul(tf.oneHot(idx, 40).toFloat(), x as tf.Tensor2D), w)),
    )(e);
    expect(maxRelativeError(g.dataSync(), dense.dataSync())).toBeLessThan(1e-6);
    tf.dispose([idx, e, w, g, dense]);
  });

  it('runs a TensorFlow op with an int64 input and deletes that input afterwards', () => {
    const before = liveCounts();
    // Fill(dims: int64 [2], value) -> a 2 x 3 matrix of 7s.
    const seven = tf.scalar(7);
    const filled = runNativeOp('Fill', { T: { type: 'float32' }, index_type: { type: 'int64' } }, [
      { int64: [2, 3] },
      seven,
    ]);
    expect(filled.shape).toEqual([2, 3]);
    expect(Array.from(filled.dataSync())).toEqual([7, 7, 7, 7, 7, 7]);
    tf.dispose([filled, seven]);
    expect(liveCounts()).toEqual(before);
  });

  it('unsortedSegmentMax takes each segment maximum; an empty segment gets the lowest float', () => {
    const out = tf.tidy(() =>
      unsortedSegmentMax(tf.tensor1d([1, 5, -2, 3, 0]), tf.tensor1d([0, 0, 2, 2, 0], 'int32'), 4),
    );
    const v = out.dataSync();
    expect([v[0], v[2]]).toEqual([5, 3]);
    expect(v[1]).toBeLessThan(-3e38);
    out.dispose();
  });

  it('leaves no tensors, buffers or TensorFlow handles behind across gathers and their gradients', () => {
    const e = tf.variable(randomTensor([30, 8], 11) as tf.Tensor2D);
    const idx = tf.tensor1d([1, 5, 5, 29], 'int32');
    const step = () =>
      tf.tidy(() => tf.sum(tf.variableGrads(() => tf.sum(tf.square(tf.gather(e, idx)))).grads[e.name])).dispose();
    step();
    const before = liveCounts();
    for (let i = 0; i < 5; i++) step();
    expect(liveCounts()).toEqual(before);
    tf.dispose([e, idx]);
  });

  it('FusedAdamSlot takes torch.optim.Adam steps (hand-computed), keeps its moments, and frees its resources', () => {
    const before = liveCounts();
    const initial = tf.tensor1d([1, -2]);
    const w = tf.variable(initial);
    const slot = new FusedAdamSlot([2]);
    const h = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const step = (g: number[], t: number) =>
      tf.tidy(() => slot.update(w, tf.tensor1d(g), FusedAdamSlot.stepInputs({ ...h, step: t })));
    const firstGrad = tf.tensor1d([0.5, -1]);
    tf.tidy(() => slot.update(w, firstGrad, FusedAdamSlot.stepInputs({ ...h, step: 1 })));
    // Step 1 moves each weight by lr sign(g).
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.9, 6), expect.closeTo(-1.9, 6)]);
    // The update is in place on a buffer no one else holds: the tensor the variable was made from (which
    // shared its buffer) and the gradient keep their values.
    expect(Array.from(initial.dataSync())).toEqual([1, -2]);
    expect(Array.from(firstGrad.dataSync())).toEqual([0.5, -1]);
    firstGrad.dispose();
    step([0.5, 1], 2);
    const m = [0.9 * 0.05 + 0.1 * 0.5, 0.9 * -0.1 + 0.1 * 1];
    const v = [0.999 * 0.00025 + 0.001 * 0.25, 0.999 * 0.001 + 0.001 * 1];
    const expected = [0.9, -1.9].map(
      (x, i) => x - (0.1 / (1 - 0.81)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** 2) + 1e-8)),
    );
    expect(Array.from(w.dataSync())).toEqual(expected.map((e) => expect.closeTo(e, 5)));
    const moments = slot.readMoments();
    expect(Array.from(moments.m)).toEqual(m.map((e) => expect.closeTo(e, 6)));
    // TensorFlow forms 1 - beta2 in float32 (1.0000467e-3), so v agrees to 5e-5 relative, not to float rounding.
    expect(Array.from(moments.v)).toEqual(v.map((e) => expect.closeTo(e, 7)));
    slot.dispose();
    tf.dispose([w, initial]);
    expect(liveCounts()).toEqual(before);
  });

  afterAll(() => tf.disposeVariables());
});
