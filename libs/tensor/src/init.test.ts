import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { dropoutMask, normalInit, seededDropoutMask, xavierNormal, xavierUniform } from './init';
import { seededUniform } from './kernels';
import { createRng } from './rng';
import { tf } from './tf';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu', env: {}, log: () => undefined });
});

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length), maxAbs };
}

describe('seeded initialisers', () => {
  it('give bit-identical tensors for the same seed', () => {
    const a = xavierUniform(createRng(11), [64, 32]);
    const b = xavierUniform(createRng(11), [64, 32]);
    const c = xavierUniform(createRng(12), [64, 32]);
    expect(a.dataSync()).toEqual(b.dataSync());
    expect(a.dataSync()).not.toEqual(c.dataSync());
    tf.dispose([a, b, c]);
  });

  it('xavierUniform stays within sqrt(6 / (fan_in + fan_out)) with the uniform standard deviation', () => {
    const t = xavierUniform(createRng(1), [300, 100]);
    const limit = Math.sqrt(6 / 400);
    const s = stats(t.dataSync() as Float32Array);
    expect(t.shape).toEqual([300, 100]);
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.maxAbs).toBeGreaterThan(0.99 * limit);
    expect(s.std).toBeCloseTo(limit / Math.sqrt(3), 3);
    t.dispose();
  });

  it('xavierNormal and normalInit have the requested standard deviation', () => {
    const x = xavierNormal(createRng(2), [300, 100]);
    const n = normalInit(createRng(3), [200, 200], 0.1);
    expect(stats(x.dataSync() as Float32Array).std).toBeCloseTo(Math.sqrt(2 / 400), 3);
    const sn = stats(n.dataSync() as Float32Array);
    expect(sn.std).toBeCloseTo(0.1, 2);
    expect(Math.abs(sn.mean)).toBeLessThan(0.002);
    tf.dispose([x, n]);
  });

  it('dropoutMask zeroes about `rate` of the entries and scales the rest by 1 / (1 - rate)', () => {
    const mask = dropoutMask(createRng(4), [100, 100], 0.2);
    const values = mask.dataSync();
    const zeros = values.filter((v) => v === 0).length;
    expect(zeros / values.length).toBeCloseTo(0.2, 1);
    expect(values.every((v) => v === 0 || v === Math.fround(1.25))).toBe(true);
    expect(dropoutMask(createRng(4), [100, 100], 0.2).dataSync()).toEqual(values);
    expect(() => dropoutMask(createRng(4), [2], 1)).toThrow(RangeError);
    mask.dispose();
  });

  it('seededUniform draws U[0, 1) values that depend only on (seed, stream)', () => {
    const u = seededUniform([200, 100], 7, 0);
    const values = Array.from(u.dataSync());
    expect(u.shape).toEqual([200, 100]);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const below = values.filter((v) => v < 0.25).length / values.length;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(below).toBeCloseTo(0.25, 1);
    expect(Array.from(seededUniform([200, 100], 7, 0).dataSync())).toEqual(values);
    expect(Array.from(seededUniform([200, 100], 8, 0).dataSync())).not.toEqual(values);
    expect(Array.from(seededUniform([200, 100], 7, 1).dataSync())).not.toEqual(values);
    u.dispose();
  });

  it('seededDropoutMask zeroes about `rate` of the entries, scales the rest by 1 / (1 - rate), and repeats per seed', () => {
    const before = tf.memory().numTensors;
    const mask = seededDropoutMask(11, 0, [100, 100], 0.3);
    const values = mask.dataSync();
    expect(values.filter((v) => v === 0).length / values.length).toBeCloseTo(0.3, 1);
    expect(values.every((v) => v === 0 || v === Math.fround(1 / 0.7))).toBe(true);
    tf.tidy(() => {
      expect(seededDropoutMask(11, 0, [100, 100], 0.3).dataSync()).toEqual(values);
      expect(seededDropoutMask(11, 1, [100, 100], 0.3).dataSync()).not.toEqual(values);
      expect(Array.from(seededDropoutMask(11, 0, [10], 0).dataSync())).toEqual(new Array(10).fill(1));
    });
    expect(() => seededDropoutMask(11, 0, [2], 1)).toThrow(RangeError);
    mask.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
