import { describe, expect, it } from 'vitest';
import { logGamma, regularizedIncompleteBeta, studentTCdf, studentTTwoSidedP } from './special-functions';
import { pairedTTest } from './ttest';

describe('special functions', () => {
  it('logGamma matches factorials and Gamma(1/2) = sqrt(pi)', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(20)).toBeCloseTo(Math.log(121645100408832000), 11);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(logGamma(0.1)).toBeCloseTo(2.252712651734206, 13);
  });

  it('regularizedIncompleteBeta matches its closed forms', () => {
    for (const x of [0, 0.01, 0.3, 0.5, 0.77, 0.999, 1]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 13);
      expect(regularizedIncompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 13);
      expect(regularizedIncompleteBeta(x, 1, 2.5)).toBeCloseTo(1 - (1 - x) ** 2.5, 13);
    }
    expect(regularizedIncompleteBeta(0.5, 40, 40)).toBeCloseTo(0.5, 13);
    expect(() => regularizedIncompleteBeta(1.5, 1, 1)).toThrow(RangeError);
  });

  it('Student-t p-values match the closed forms for df = 1, 2, 3', () => {
    for (const t of [0, 0.3, 1, 2.5, 12.7, -4]) {
      const a = Math.abs(t);
      expect(studentTTwoSidedP(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(a), 13);
      expect(studentTTwoSidedP(t, 2)).toBeCloseTo(1 - a / Math.sqrt(t * t + 2), 13);
      const cdf3 = 0.5 + (a / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(a / Math.sqrt(3))) / Math.PI;
      expect(studentTTwoSidedP(t, 3)).toBeCloseTo(2 * (1 - cdf3), 13);
    }
  });

  it('Student-t p-values match tabulated critical values and numerical integration', () => {
    // Critical values t_{0.975} / t_{0.995} from statistical tables (scipy.stats.t.ppf); the last two
    // p-values come from Simpson integration of the t density with 200,000 steps.
    expect(studentTTwoSidedP(2.2281388519649385, 10)).toBeCloseTo(0.05, 9);
    expect(studentTTwoSidedP(2.570581836, 5)).toBeCloseTo(0.05, 9);
    expect(studentTTwoSidedP(2.042272456, 30)).toBeCloseTo(0.05, 9);
    expect(studentTTwoSidedP(3.169272673, 10)).toBeCloseTo(0.01, 9);
    expect(studentTTwoSidedP(1.959963984540054, 1e9)).toBeCloseTo(0.05, 7);
    expect(studentTTwoSidedP(2.0, 7)).toBeCloseTo(0.085619328563, 10);
    expect(studentTTwoSidedP(1.3, 25)).toBeCloseTo(0.205459720368, 10);
    expect(studentTCdf(-2.0, 7)).toBeCloseTo(0.085619328563 / 2, 10);
    expect(studentTCdf(2.0, 7)).toBeCloseTo(1 - 0.085619328563 / 2, 10);
  });
});

describe('pairedTTest', () => {
  it('computes t = mean(d) / (sd(d) / sqrt(n)) and the two-sided p of a hand-worked example', () => {
    // d = [0.02, 0.02, 0, 0.04]: mean 0.02, sd = sqrt(0.0008 / 3), t = 0.02 / (sd / 2) = sqrt(6).
    const { t, df, pValue } = pairedTTest([0.3, 0.32, 0.31, 0.35], [0.28, 0.3, 0.31, 0.31]);
    expect(df).toBe(3);
    expect(t).toBeCloseTo(Math.sqrt(6), 10);
    // df = 3: F(t) = 1/2 + (t / (sqrt3 (1 + t^2/3)) + atan(t / sqrt3)) / pi = 1/2 + (sqrt2/3 + atan(sqrt2)) / pi
    expect(pValue).toBeCloseTo(1 - (2 / Math.PI) * (Math.SQRT2 / 3 + Math.atan(Math.SQRT2)), 9);
    expect(pValue).toBeCloseTo(0.0917211, 7);
  });

  it('is antisymmetric in its arguments', () => {
    const a = [0.1, 0.4, 0.35, 0.8, 0.2];
    const b = [0.12, 0.3, 0.3, 0.6, 0.25];
    const ab = pairedTTest(a, b);
    const ba = pairedTTest(b, a);
    expect(ba.t).toBeCloseTo(-ab.t, 12);
    expect(ba.pValue).toBeCloseTo(ab.pValue, 12);
  });

  it('follows scipy on degenerate input and rejects unusable input', () => {
    expect(pairedTTest([1, 2, 3], [1, 2, 3]).pValue).toBeNaN();
    const constant = pairedTTest([2, 3, 4], [1, 2, 3]);
    expect(constant.t).toBe(Infinity);
    expect(constant.pValue).toBe(0);
    expect(() => pairedTTest([1], [2])).toThrow(/at least 2/);
    expect(() => pairedTTest([1, 2], [2])).toThrow(/differ in length/);
  });
});
