import { studentTTwoSidedP } from './special-functions';

export interface TTestResult {
  t: number;
  df: number;
  /** Two-sided. */
  pValue: number;
}

/**
 * Paired two-sided t-test of mean(a - b) = 0 (scipy.stats.ttest_rel). Identical vectors give t = NaN and
 * p = NaN, as scipy does; a constant non-zero difference gives t = +-Infinity and p = 0.
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): TTestResult {
  if (a.length !== b.length) throw new RangeError(`pairedTTest: vectors differ in length (${a.length} vs ${b.length})`);
  const n = a.length;
  if (n < 2) throw new RangeError(`pairedTTest needs at least 2 pairs, got ${n}`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i] - b[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (a[i] - b[i] - mean) ** 2;
  const df = n - 1;
  const standardError = Math.sqrt(ss / df / n);
  const t = mean / standardError;
  return { t, df, pValue: studentTTwoSidedP(t, df) };
}
