import { createRng, initBackend, tf } from '@sgfd/tensor';
import { checkGradients } from '@sgfd/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { Dense } from './layers';
import { applyLinearStack, linearStackCost, linearStackOrder } from './linear-stack';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

function randomRows(seed: number, rows: number, cols: number): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => rng.normal()),
    [rows, cols],
  );
}

function stack(widths: number[], seed: number, biasInit: 'torchDefault' | 'none' = 'torchDefault'): Dense[] {
  const rng = createRng(seed);
  return widths.slice(1).map((out, i) => new Dense(widths[i], out, rng, { biasInit }));
}

const layerByLayer = (x: tf.Tensor2D, layers: Dense[]): tf.Tensor2D =>
  tf.tidy(() => layers.reduce((h, layer) => layer.apply(h), x));

describe('linear stack order (matrix chain)', () => {
  it('counts the multiply-adds of a training step in each order', () => {
    // Layer by layer, widths 8 -> 4 -> 2 on 10 rows: forward 10 (32 + 8), weight gradients 10 (32 + 8),
    // the second layer's input gradient 10 * 8: 880. Collapsed: W1 W2 is 8 * 4 * 2 = 64, three times
    // (forward and its two gradients), then the 10 x 8 x 2 product and its weight gradient: 192 + 320.
    expect(linearStackCost([8, 4, 2], 10)).toEqual({ 'layer-by-layer': 880, collapsed: 512 });
  });

  it("collapses the SGFD teacher on a training batch's items, not on its own 64-row batches", () => {
    expect(linearStackOrder([4096, 1024, 256, 64], 2000)).toBe('collapsed');
    expect(linearStackOrder([384, 96, 64], 2000)).toBe('collapsed');
    expect(linearStackOrder([4096, 1024, 256, 64], 64)).toBe('layer-by-layer');
    const teacher = linearStackCost([4096, 1024, 256, 64], 2000);
    expect(teacher['layer-by-layer'] / teacher.collapsed).toBeGreaterThan(9);
    expect(linearStackOrder([4096, 64], 100_000)).toBe('layer-by-layer');
  });
});

describe('applyLinearStack', () => {
  for (const biasInit of ['torchDefault', 'none'] as const) {
    it(`collapsed equals layer by layer, values and gradients (bias ${biasInit})`, () => {
      const widths = [40, 10, 5, 2];
      const x = randomRows(1, 16, 40);
      expect(linearStackOrder(widths, 16)).toBe('collapsed');
      const layers = stack(widths, 2, biasInit);
      const vars = layers.flatMap((l) => Object.values(l.weights));
      const weights = randomRows(3, 16, 2);
      const loss = (f: typeof applyLinearStack) => () => tf.sum(tf.mul(tf.square(f(x, layers)), weights)) as tf.Scalar;

      const before = tf.memory().numTensors;
      const collapsed = tf.variableGrads(loss(applyLinearStack), vars);
      const reference = tf.variableGrads(loss(layerByLayer), vars);
      expect(collapsed.value.dataSync()[0]).toBeCloseTo(reference.value.dataSync()[0], 2);
      for (const v of vars) {
        const [a, b] = [collapsed.grads[v.name].dataSync(), reference.grads[v.name].dataSync()];
        const scale = Math.max(...Array.from(b, Math.abs));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4 * scale);
      }
      tf.dispose([
        collapsed.value,
        reference.value,
        ...Object.values(collapsed.grads),
        ...Object.values(reference.grads),
      ]);
      expect(tf.memory().numTensors).toBe(before);

      const check = checkGradients(loss(applyLinearStack), vars);
      expect(check.worst).toBeLessThanOrEqual(1);
      expect(check.checked).toBe(vars.reduce((n, v) => n + v.size, 0));
      tf.dispose([x, weights]);
      for (const l of layers) l.dispose();
    });
  }

  it('runs layer by layer when that is cheaper, with the same values', () => {
    const x = randomRows(4, 2, 40);
    const layers = stack([40, 10, 5, 2], 5);
    const [a, b] = [applyLinearStack(x, layers), layerByLayer(x, layers)];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    for (const l of layers) l.dispose();
  });
});
