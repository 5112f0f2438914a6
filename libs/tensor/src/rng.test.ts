import { describe, expect, it } from 'vitest';
import { createRng } from './rng';

function take(n: number, next: () => number): number[] {
  return Array.from({ length: n }, next);
}

describe('createRng', () => {
  it('produces the reference xoshiro128** sequence for state (1, 2, 3, 4)', () => {
    // Values printed by the authors' C reference implementation (xoshiro128starstar.c).
    const rng = createRng(0);
    rng.setState({ s: [1, 2, 3, 4], spare: null });
    expect(take(8, () => rng.uint32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
    ]);
  });

  it('gives the same sequence for the same seed and different ones for different seeds', () => {
    const r1 = createRng(42);
    const r2 = createRng(42);
    expect(take(100, () => r1.uint32())).toEqual(take(100, () => r2.uint32()));
    const r3 = createRng(43);
    const r4 = createRng(42 + 2 ** 32);
    const r5 = createRng(42);
    const ref = take(10, () => r5.uint32());
    expect(take(10, () => r3.uint32())).not.toEqual(ref);
    expect(take(10, () => r4.uint32())).not.toEqual(ref);
  });

  it('resumes bit-identically from a JSON-serialised state, including a pending normal deviate', () => {
    const rng = createRng(7);
    take(13, () => rng.float());
    rng.normal(); // leaves the second Box-Muller deviate pending
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.float(), rng.int(1000), rng.normal(), rng.uint32()];
    const resumed = createRng(999);
    resumed.setState(saved);
    expect([resumed.normal(), resumed.float(), resumed.int(1000), resumed.normal(), resumed.uint32()]).toEqual(
      expected,
    );
  });

  it('draws floats in [0, 1) with the mean and variance of a uniform', () => {
    const rng = createRng(1);
    const xs = take(200_000, () => rng.float());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 3);
  });

  it('draws int(n) uniformly over [0, n) (chi-square well under the 0.1% critical value)', () => {
    const rng = createRng(2);
    const n = 7;
    const counts = new Array(n).fill(0);
    const draws = 70_000;
    for (let i = 0; i < draws; i++) counts[rng.int(n)]++;
    const expected = draws / n;
    const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(22.46); // chi2(6) at p = 0.001
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(rng.int(1)).toBe(0);
    expect(rng.int(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it('draws standard normals (mean 0, variance 1, symmetric tails)', () => {
    const rng = createRng(3);
    const xs = take(200_000, () => rng.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(variance).toBeCloseTo(1, 1);
    const beyond2 = xs.filter((x) => Math.abs(x) > 1.96).length / xs.length;
    expect(beyond2).toBeCloseTo(0.05, 2);
  });

  it('shuffles in place into a permutation, reproducibly', () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    const b = Int32Array.from({ length: 50 }, (_, i) => i);
    createRng(5).shuffle(a);
    createRng(5).shuffle(b);
    expect(a).toEqual(b);
    expect(Array.from(a)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects seeds and states it cannot represent', () => {
    expect(() => createRng(1.5)).toThrow(RangeError);
    expect(() => createRng(0).setState({ s: [0, 0, 0, 0], spare: null })).toThrow(/all zero/);
    expect(() => createRng(0).setState({ s: [1, 2, 3, -1], spare: null })).toThrow(/unsigned 32-bit/);
  });
});
