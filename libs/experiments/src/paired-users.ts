// One seed's comparison of two runs on the same test users: the relative gain of the mean and a paired
// t-test across users (what `sgfd start` can say with one run per arm; seeds need a suite).
import { pairedTTest } from '@sgfd/metrics';

export interface PerUserValues {
  /** Users with test items, in increasing id order. */
  users: readonly number[];
  values: readonly number[];
}

export interface PairedUserComparison {
  mean: number;
  baselineMean: number;
  /** mean / baselineMean - 1; null when the baseline is 0. */
  relativeGain: number | null;
  /** Two-sided paired t-test across the users both runs evaluated; null when it is undefined. */
  pValue: number | null;
  users: number;
}

export function compareAcrossUsers(ours: PerUserValues, baseline: PerUserValues): PairedUserComparison {
  const base = new Map(baseline.users.map((u, i) => [u, baseline.values[i]!]));
  const a: number[] = [];
  const b: number[] = [];
  ours.users.forEach((u, i) => {
    const other = base.get(u);
    if (other !== undefined) {
      a.push(ours.values[i]!);
      b.push(other);
    }
  });
  const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const mean = avg(a);
  const baselineMean = avg(b);
  let pValue: number | null = null;
  if (a.length >= 2) {
    const p = pairedTTest(a, b).pValue;
    pValue = Number.isFinite(p) ? p : null;
  }
  return {
    mean,
    baselineMean,
    relativeGain: baselineMean > 0 ? mean / baselineMean - 1 : null,
    pValue,
    users: a.length,
  };
}
