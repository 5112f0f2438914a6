import { customOpsAvailable, initBackend, setCustomOpsEnabled, tf } from '@sgfd/tensor';
import { maxRelativeError, randomTensor } from '@sgfd/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, GROUPED_ADAM_MAX_SIZE } from './adam';

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

  it('takes a weight gradient as rows^T productGrad (one fused pass natively) with the steps of an explicit gradient', () => {
    // 70 x 40 from 9 rows: the fused kernel's partial row block and half panel; three steps carry the moments.
    const start = randomTensor([70, 40], 60);
    const [explicit, outer] = [tf.variable(start.clone()), tf.variable(start.clone())];
    const bias = tf.variable(tf.tensor1d([0.5, -0.5]));
    const [a, b] = [
      new Adam({ w: explicit }, { learningRate: 0.01 }),
      new Adam({ w: outer, bias }, { learningRate: 0.01 }),
    ];
    for (let step = 0; step < 3; step++) {
      const rows = randomTensor([9, 70], 61 + step) as tf.Tensor2D;
      const productGrad = randomTensor([9, 40], 71 + step) as tf.Tensor2D;
      const grad = tf.matMul(rows, productGrad, true, false);
      const biasGrad = tf.tensor1d([0.1, 0.2]);
      a.apply({ w: grad });
      b.apply({ bias: biasGrad }, [{ name: 'w', rows, productGrad }]);
      tf.dispose([rows, productGrad, grad, biasGrad]);
    }
    expect(maxRelativeError(outer.dataSync(), explicit.dataSync())).toBeLessThan(1e-5);
    expect(maxRelativeError(outer.dataSync(), start.dataSync())).toBeGreaterThan(1e-3);
    const [got, want] = [b.getState(), a.getState()];
    expect(got.steps).toEqual({ w: 3, bias: 3 });
    expect(maxRelativeError(got.arrays['v/w']!.data, want.arrays['v/w']!.data)).toBeLessThan(1e-5);
    expect(() =>
      b.apply({}, [{ name: 'nope', rows: outer as tf.Tensor2D, productGrad: outer as tf.Tensor2D }]),
    ).toThrow(/no variable nope/);
    a.dispose();
    b.dispose();
    tf.dispose([start, explicit, outer, bias]);
  });

  it('on the native engine a small variable trained from an outer product joins the group op (no element-wise Adam)', async (ctx) => {
    if (!customOpsAvailable()) return ctx.skip();
    const w = tf.variable(randomTensor([384, 96], 5));
    const bias = tf.variable(tf.zeros([96]));
    const adam = new Adam({ w, bias }, { learningRate: 0.01 });
    const rows = randomTensor([16, 384], 6) as tf.Tensor2D;
    const productGrad = randomTensor([16, 96], 7) as tf.Tensor2D;
    const biasGrad = randomTensor([96], 8);
    const profile = await tf.profile(() => adam.apply({ bias: biasGrad }, [{ name: 'w', rows, productGrad }]));
    const kernels = profile.kernels.map((k) => k.name);
    expect(kernels).toContain('BatchMatMul');
    expect(kernels.filter((k) => ['Sqrt', 'RealDiv', 'Square', 'Sub'].includes(k))).toEqual([]);
    expect(adam.getState().steps).toEqual({ w: 1, bias: 1 });
    adam.dispose();
    tf.dispose([w, bias, rows, productGrad, biasGrad]);
  });

  it('on the native engine steps the small variables in one op, as the per-variable fused update does', (ctx) => {
    if (!customOpsAvailable()) return ctx.skip();
    const shapes: Record<string, number[]> = { bias: [7], small: [30, 20], large: [GROUPED_ADAM_MAX_SIZE + 1] };
    const initial = (name: string) => randomTensor(shapes[name], 10 + Object.keys(shapes).indexOf(name));
    const run = (grouped: boolean) => {
      const vars = Object.fromEntries(Object.keys(shapes).map((name) => [name, tf.variable(initial(name))]));
      // Switched off while Adam is made, the custom ops leave every variable to its own fused update.
      const make = () => {
        setCustomOpsEnabled(grouped);
        try {
          return new Adam(vars, { learningRate: 0.03 });
        } finally {
          setCustomOpsEnabled(true);
        }
      };
      let adam = make();
      for (let step = 0; step < 4; step++) {
        const grads = Object.fromEntries(
          Object.entries(shapes)
            // `small` has no gradient in step 1, so the group's variables run at different step counts.
            .filter(([name]) => !(name === 'small' && step === 1))
            .map(([name, shape], k) => [name, randomTensor(shape, 100 * step + k)]),
        );
        adam.apply(grads);
        tf.dispose(Object.values(grads));
        if (step === 2) {
          const state = adam.getState();
          adam.dispose();
          adam = make();
          adam.setState(state);
        }
      }
      const out = Object.fromEntries(Object.entries(vars).map(([name, v]) => [name, v.dataSync().slice()]));
      adam.dispose();
      tf.dispose(Object.values(vars));
      return out;
    };
    const perVariable = run(false);
    const grouped = run(true);
    for (const name of Object.keys(shapes))
      expect(maxRelativeError(grouped[name], perVariable[name]), name).toBeLessThan(1e-5);
    const start = initial('bias');
    expect(maxRelativeError(grouped.bias, start.dataSync())).toBeGreaterThan(1e-3);
    start.dispose();
  });
});
