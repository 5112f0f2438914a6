import { createRng } from '@sgfd/tensor';
import { describe, expect, it } from 'vitest';
import { BprSampler } from './sampler';

// 3 users, 6 items; user 1 has seen all but items 4 and 5.
const train = { users: Int32Array.from([0, 0, 1, 1, 1, 1, 2]), items: Int32Array.from([1, 3, 0, 1, 2, 3, 5]) };
const csr = { indptr: Int32Array.from([0, 2, 6, 7]), indices: Int32Array.from([1, 3, 0, 1, 2, 3, 5]) };

describe('BprSampler', () => {
  it('visits every training pair once per epoch in batches, shuffled by the seed', () => {
    const sampler = new BprSampler(train, csr, 6);
    const batches = sampler.epoch(createRng(1), 3, 0);
    expect(batches.map((b) => b.users.length)).toEqual([3, 3, 1]);
    expect(batches.every((b) => b.negItems === null)).toBe(true);
    const pairs = batches.flatMap((b) => Array.from(b.users, (u, i) => `${u}:${b.items[i]}`)).sort();
    expect(pairs).toEqual(Array.from(train.users, (u, i) => `${u}:${train.items[i]}`).sort());
    const again = sampler.epoch(createRng(1), 3, 0);
    expect(again.map((b) => Array.from(b.items))).toEqual(batches.map((b) => Array.from(b.items)));
    const other = sampler.epoch(createRng(2), 3, 0);
    expect(other.map((b) => Array.from(b.items))).not.toEqual(batches.map((b) => Array.from(b.items)));
  });

  it('draws negatives (k per pair) uniformly among the items the user has not seen in training', () => {
    const sampler = new BprSampler(train, csr, 6);
    const rng = createRng(3);
    const counts = new Map<number, number>();
    for (let i = 0; i < 4000; i++) {
      const item = sampler.negative(1, rng);
      counts.set(item, (counts.get(item) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([4, 5]);
    expect(counts.get(4)! / 4000).toBeCloseTo(0.5, 1);
    const batch = sampler.epoch(createRng(4), 7, 3)[0];
    expect(batch.negItems).toHaveLength(21);
    for (let i = 0; i < 21; i++) {
      const user = batch.users[Math.floor(i / 3)];
      expect(csr.indices.subarray(csr.indptr[user], csr.indptr[user + 1])).not.toContain(batch.negItems![i]);
    }
  });

  it('refuses a user who has seen every item', () => {
    expect(() => new BprSampler(train, csr, 4)).toThrow(/every item/);
  });
});
