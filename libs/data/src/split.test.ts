import { describe, expect, it } from 'vitest';
import { SplitCode } from '@sgfd/contracts';
import type { InteractionColumns } from './dataset-input';
import { Rng } from './random';
import { sortCanonically } from './canonical-order';
import { assignSplits, DROPPED, splitInteractions, splitSizes, splitSortedInteractions } from './split';

/** `perUser[u]` interactions for user u with items 0..perUser[u]-1, rows shuffled. */
function interactions(perUser: number[], seed = 5): InteractionColumns {
  const users: number[] = [];
  const items: number[] = [];
  perUser.forEach((n, u) => {
    for (let i = 0; i < n; i++) {
      users.push(u);
      items.push(i);
    }
  });
  const order = new Rng(seed).shuffle(Array.from(users.keys()));
  const n = users.length;
  return {
    users: Int32Array.from(order, (k) => users[k]),
    items: Int32Array.from(order, (k) => items[k]),
    splits: new Int8Array(n),
    ratings: new Float32Array(n).fill(1),
    timestamps: new BigInt64Array(n),
  };
}

function splitOf(cols: InteractionColumns, splits: Int8Array): Map<string, number> {
  return new Map(Array.from(splits, (s, k) => [`${cols.users[k]}:${cols.items[k]}`, s]));
}

describe('per-user split (MMRec rule)', () => {
  it('takes 8:1:1 from 10 interactions up and n-2/1/1 below', () => {
    expect(splitSizes(10)).toEqual({ train: 8, valid: 1, test: 1 });
    expect(splitSizes(20)).toEqual({ train: 16, valid: 2, test: 2 });
    expect(splitSizes(15)).toEqual({ train: 11, valid: 2, test: 2 });
    expect(splitSizes(34)).toEqual({ train: 28, valid: 3, test: 3 });
    expect(splitSizes(9)).toEqual({ train: 7, valid: 1, test: 1 });
    expect(splitSizes(3)).toEqual({ train: 1, valid: 1, test: 1 });
    expect(splitSizes(2)).toEqual({ train: 0, valid: 1, test: 1 });
    expect(splitSizes(1)).toEqual({ train: 0, valid: 0, test: 1 });
  });

  it('gives every user the rule sizes, reproducibly from the seed and independently of row order', () => {
    const perUser = [10, 25, 9, 5, 13];
    const cols = interactions(perUser);
    const splits = assignSplits(cols.users, cols.items, perUser.length, 42);
    perUser.forEach((n, u) => {
      const got = [0, 0, 0];
      splits.forEach((s, k) => cols.users[k] === u && got[s]++);
      const want = splitSizes(n);
      expect(got).toEqual([want.train, want.valid, want.test]);
    });
    const reordered = interactions(perUser, 99);
    const again = assignSplits(reordered.users, reordered.items, perUser.length, 42);
    expect(splitOf(reordered, again)).toEqual(splitOf(cols, splits));
    const otherSeed = assignSplits(cols.users, cols.items, perUser.length, 43);
    expect(splitOf(cols, otherSeed)).not.toEqual(splitOf(cols, splits));
  });

  it('drops the valid/test rows of users left without training rows', () => {
    const cols = interactions([12, 2, 1, 3]);
    const marks = assignSplits(cols.users, cols.items, 4, 1);
    marks.forEach((s, k) => {
      if (cols.users[k] === 1 || cols.users[k] === 2) expect(s).toBe(DROPPED);
      else expect(s).not.toBe(DROPPED);
    });
    const { cols: kept, dropped } = splitInteractions(cols, 4, 1);
    expect(dropped).toBe(3);
    expect(kept.users.length).toBe(15);
    expect(new Set(kept.users)).toEqual(new Set([0, 3]));
    expect(Array.from(kept.splits).filter((s) => s === SplitCode.train).length).toBe(10 + 1);
    // In place: the kept rows are views of the caller's columns, so a large import holds one table.
    expect(kept.users.buffer).toBe(cols.users.buffer);
    expect(kept.splits.buffer).toBe(cols.splits.buffer);
  });

  it('splits a table in canonical order as it splits the same pairs in any order, keeping the order', () => {
    // User 1 has no rows (ids need not be contiguous here); users 2 and 3 are dropped (1 and 2 rows).
    const perUser = [12, 0, 1, 2, 37, 3, 10, 9];
    for (const seed of [1, 2023]) {
      const shuffled = interactions(perUser, seed);
      const sorted = interactions(perUser, seed + 1);
      sortCanonically(sorted, perUser.length);
      const expected = splitInteractions(shuffled, perUser.length, seed);
      const got = splitSortedInteractions(sorted, perUser.length, seed);
      expect(got.dropped).toBe(expected.dropped);
      expect(splitOf(got.cols, got.cols.splits)).toEqual(splitOf(expected.cols, expected.cols.splits));
      for (let k = 1; k < got.cols.users.length; k++) {
        const inOrder =
          got.cols.users[k - 1] < got.cols.users[k] ||
          (got.cols.users[k - 1] === got.cols.users[k] && got.cols.items[k - 1] < got.cols.items[k]);
        expect(inOrder).toBe(true);
      }
      expect(got.cols.users.buffer).toBe(sorted.users.buffer);
    }
  });

  it('splits a table in canonical order with nothing allocated per row', () => {
    // 1 M rows of 21 bytes, 20 a user: a per-row Int32 index would be 4 MB; the scratch is one user's run.
    const rows = 1 << 20;
    const cols: InteractionColumns = {
      users: Int32Array.from({ length: rows }, (_, k) => Math.floor(k / 20)),
      items: Int32Array.from({ length: rows }, (_, k) => k % 20),
      splits: new Int8Array(rows),
      ratings: new Float32Array(rows),
      timestamps: new BigInt64Array(rows),
    };
    const before = process.memoryUsage().arrayBuffers;
    const { dropped } = splitSortedInteractions(cols, Math.ceil(rows / 20), 7);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    expect(dropped).toBe(0);
  });
});
