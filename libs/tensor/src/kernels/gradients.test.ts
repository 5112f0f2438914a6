import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../backend';
import { checkGradients } from '../finite-differences';
import { liveCountsAcross, randomTensor, useBackend } from '../testing';
import { tf } from '../tf';
import { restoreStockGradients } from './gradients';
import { registerCustomKernels } from '.';

describe.each<BackendName>(['tensorflow', 'wasm'])('gradients of Sum and Mean on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('tensorflow'));

  // Every reduction kind over a [3, 4, 5] input: the reduction, the input shape with the reduced axes at
  // 1, and the divisor (the count for a mean).
  const reductions: Array<[string, (x: tf.Tensor) => tf.Tensor, number[], number]> = [
    ['sum over one axis', (x) => tf.sum(x, 1), [3, 1, 5], 1],
    ['sum over the first axis, kept', (x) => tf.sum(x, 0, true), [1, 4, 5], 1],
    ['sum of all', (x) => tf.sum(x), [1, 1, 1], 1],
    ['sum over the last two axes (negative)', (x) => tf.sum(x, [-1, -2]), [3, 1, 1], 1],
    ['mean over the last axis', (x) => tf.mean(x, 2), [3, 4, 1], 5],
    ['mean over the first axis, kept', (x) => tf.mean(x, 0, true), [1, 4, 5], 3],
    ['mean of all', (x) => tf.mean(x), [1, 1, 1], 60],
  ];

  it.each(reductions)('%s: dL/dx is dy broadcast over the reduced axes (hand-computed)', (_, reduce, kept, divisor) => {
    const x = randomTensor([3, 4, 5], 1);
    const w = tf.tidy(() => randomTensor(reduce(x).shape, 2));
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(reduce(v), w)))(x);
    // d/dx sum(w * reduce(x)) at each input entry is w at the entry it was reduced into, over the divisor.
    const expected = tf.tidy(() => tf.mul(tf.div(tf.reshape(w, kept), divisor), tf.onesLike(x)));
    expect(grad.shape).toEqual(x.shape);
    expect(Array.from(grad.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, w, grad, expected]);
  });

  it('restoreStockGradients puts the tfjs gradients back, with the same values; registerCustomKernels re-registers ours', () => {
    const ours = tf.getGradient('Sum');
    const x = randomTensor([4, 6], 4);
    const grad = () => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.mean(v, 1))))(x);
    const withOurs = grad();
    restoreStockGradients();
    try {
      expect(tf.getGradient('Sum')).not.toBe(ours);
      const stock = grad();
      expect(Array.from(stock.dataSync())).toEqual(Array.from(withOurs.dataSync()));
      stock.dispose();
    } finally {
      registerCustomKernels(tf.getBackend());
    }
    expect(tf.getGradient('Sum')).toBe(ours);
    tf.dispose([x, withOurs]);
  });

  it('agrees with finite differences through a nonlinear loss, and leaks nothing', () => {
    const v = tf.variable(randomTensor([6, 7], 3));
    const loss = () =>
      tf.add(tf.sum(tf.square(tf.sum(tf.sin(v), 1))), tf.sum(tf.exp(tf.mean(v, 0, true)))) as tf.Scalar;
    expect(checkGradients(loss, [v]).worst).toBeLessThanOrEqual(1);
    const { before, after } = liveCountsAcross(() => tf.dispose(tf.grad(() => loss())(v)));
    expect(after).toEqual(before);
    v.dispose();
  });
});
