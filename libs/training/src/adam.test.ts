import { initBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from './adam';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

describe('Adam', () => {
  it('follows torch.optim.Adam step by step (hand-computed)', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const adam = new Adam({ w }, { learningRate: 0.1 });
    // step 1, g = [0.5, -1]: m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) = g; sqrt(v / (1 - 0.999)) = |g|
    // so w -= 0.1 * g / (|g| + 1e-8) = 0.1 * sign(g)
    adam.apply({ w: tf.tensor1d([0.5, -1]) });
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.9, 6), expect.closeTo(-1.9, 6)]);
    // step 2, g = [0.5, 1]: m = [0.095, 0.01], v = [0.0004998, 0.001998]
    adam.apply({ w: tf.tensor1d([0.5, 1]) });
    const m = [0.9 * 0.05 + 0.1 * 0.5, 0.9 * -0.1 + 0.1 * 1];
    const v = [0.999 * 0.00025 + 0.001 * 0.25, 0.999 * 0.001 + 0.001 * 1];
    const expected = [0.9, -1.9].map(
      (x, i) => x - (0.1 / (1 - 0.81)) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.999 ** 2) + 1e-8)),
    );
    expect(Array.from(w.dataSync())).toEqual(expected.map((e) => expect.closeTo(e, 5)));
    adam.dispose();
    w.dispose();
  });

  it('continues identically from saved state, and skips variables without a gradient', () => {
    const run = (restart: boolean) => {
      const a = tf.variable(tf.tensor1d([1, 2, 3]));
      const b = tf.variable(tf.tensor1d([4]));
      let adam = new Adam({ a, b }, { learningRate: 0.05 });
      const grads = [
        [0.3, -0.2, 0.1],
        [0.1, 0.4, -0.5],
        [-0.2, 0.2, 0.2],
      ];
      grads.forEach((g, k) => {
        if (restart && k === 2) {
          const state = adam.getState();
          adam.dispose();
          adam = new Adam({ a, b }, { learningRate: 0.05 });
          adam.setState(state);
        }
        adam.apply({ a: tf.tensor1d(g) });
      });
      const out = [...a.dataSync(), ...b.dataSync()];
      adam.dispose();
      tf.dispose([a, b]);
      return out;
    };
    const straight = run(false);
    expect(run(true)).toEqual(straight);
    expect(straight[3]).toBe(4);
  });
});
