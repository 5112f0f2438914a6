import { describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { solveSpd } from './linalg';
import { tf } from './tf';

describe('solveSpd', () => {
  it('solves a hand-computed 2 x 2 system', async () => {
    await initBackend({ log: () => undefined });
    // [[4, 2], [2, 3]] x = [[2, 0], [1, 4]]: x = [[0.5, -1], [0, 2]] (det 8).
    const x = tf.tidy(() => solveSpd(tf.tensor2d([4, 2, 2, 3], [2, 2]), tf.tensor2d([2, 0, 1, 4], [2, 2])));
    expect(Array.from(x.dataSync())).toEqual([0.5, -1, 0, 2].map((v) => expect.closeTo(v, 5)));
    x.dispose();
  });

  it('solves a random ridge system: A X reproduces B, no tensor left behind', async () => {
    await initBackend({ log: () => undefined });
    const before = tf.memory().numTensors;
    const residual = tf.tidy(() => {
      const f = tf.randomNormal([200, 60], 0, 1, 'float32', 7) as tf.Tensor2D;
      const a = tf.add(tf.matMul(f, f, true, false), tf.mul(tf.eye(60), 0.5)) as tf.Tensor2D;
      const b = tf.randomNormal([60, 5], 0, 1, 'float32', 8) as tf.Tensor2D;
      const x = solveSpd(a, b);
      return tf.max(tf.abs(tf.sub(tf.matMul(a, x), b))).dataSync()[0]!;
    });
    expect(residual).toBeLessThan(1e-3);
    expect(tf.memory().numTensors).toBe(before);
  });
});
