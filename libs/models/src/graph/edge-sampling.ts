import type { Rng } from '@sgfd/tensor';

/**
 * `count` distinct positions drawn without replacement with probability proportional to `weights`
 * (torch.multinomial(weights, count) without replacement), by Efraimidis-Spirakis: each position gets the
 * key log(u) / w with u uniform in (0, 1], and the `count` largest keys win. Zero weights are never drawn
 * while positive ones remain. Returned in increasing order.
 */
export function weightedSampleWithoutReplacement(weights: ArrayLike<number>, count: number, rng: Rng): Int32Array {
  const n = weights.length;
  if (!Number.isInteger(count) || count < 0 || count > n)
    throw new RangeError(`cannot draw ${count} of ${n} positions`);
  const keys = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const w = weights[p];
    if (!(w >= 0) || !Number.isFinite(w))
      throw new RangeError(`weight ${w} at ${p} is not a finite non-negative number`);
    const u = 1 - rng.float();
    keys[p] = w > 0 ? Math.log(u) / w : -Infinity;
  }
  const order = Int32Array.from({ length: n }, (_, p) => p);
  order.sort((a, b) => keys[b] - keys[a] || a - b);
  return order.subarray(0, count).sort();
}
