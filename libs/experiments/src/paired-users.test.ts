import { describe, expect, it } from 'vitest';
import { compareAcrossUsers } from './paired-users';

describe('compareAcrossUsers', () => {
  it('pairs by user id, and gives the hand-computed gain and paired t-test p-value', () => {
    // Differences over the shared users 1, 2, 3: 0.1, 0.2, 0.3 -> mean 0.2, sd 0.1, t = 0.2 / (0.1 / sqrt 3)
    // = 3.4641 with 2 degrees of freedom: two-sided p = 0.07418.
    const ours = { users: [1, 2, 3, 9], values: [0.3, 0.4, 0.5, 1] };
    const base = { users: [0, 1, 2, 3], values: [5, 0.2, 0.2, 0.2] };
    const c = compareAcrossUsers(ours, base);
    expect(c.users).toBe(3);
    expect(c.mean).toBeCloseTo(0.4, 12);
    expect(c.baselineMean).toBeCloseTo(0.2, 12);
    expect(c.relativeGain).toBeCloseTo(1, 12);
    expect(c.pValue).toBeCloseTo(0.07418, 4);
  });

  it('identical runs have no defined p-value and no gain', () => {
    const run = { users: [1, 2], values: [0.5, 0.25] };
    const c = compareAcrossUsers(run, run);
    expect(c.relativeGain).toBe(0);
    expect(c.pValue).toBeNull();
  });
});
