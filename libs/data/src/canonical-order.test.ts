import { describe, expect, it } from 'vitest';
import { sortCanonically } from './canonical-order';
import type { InteractionColumns } from './dataset-input';
import { Rng } from './random';

/**
 * Random rows over `nUsers` users: user ids drawn from `userOf` (so some users repeat a lot and some have
 * no rows), each (user, item) pair once, every other column a function of the row's index so a row that
 * came apart would show.
 */
function randomColumns(
  rng: Rng,
  rows: number,
  nUsers: number,
  nItems: number,
  userOf: () => number,
): InteractionColumns {
  const seen = new Set<number>();
  const users = new Int32Array(rows);
  const items = new Int32Array(rows);
  for (let k = 0; k < rows;) {
    const u = userOf();
    const i = rng.int(nItems);
    if (seen.has(u * nItems + i)) continue;
    seen.add(u * nItems + i);
    users[k] = u;
    items[k] = i;
    k++;
  }
  expect(Math.max(...users)).toBeLessThan(nUsers);
  return {
    users,
    items,
    splits: Int8Array.from(users, (_, k) => k % 3),
    ratings: Float32Array.from(users, (_, k) => k + 0.5),
    timestamps: BigInt64Array.from(users, (_, k) => BigInt(k) * 1_000_000_007n),
  };
}

/** The reference: rows as tuples, sorted by (user, item) with Array.prototype.sort. */
function referenceSorted(cols: InteractionColumns): number[][] {
  return rowsOf(cols).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function rowsOf(cols: InteractionColumns): number[][] {
  return Array.from(cols.users, (u, k) => [
    u,
    cols.items[k],
    cols.splits[k],
    cols.ratings[k],
    Number(cols.timestamps[k]),
  ]);
}

describe('sortCanonically', () => {
  const cases: [string, number, number, number, (rng: Rng) => () => number][] = [
    ['a few rows per user, some users without rows', 2000, 300, 50, (rng) => () => rng.int(300)],
    // Skewed: user 0 has hundreds of rows (heapsort), many users have 1-3 (insertion sort) or none.
    [
      'long and short segments',
      3000,
      400,
      5000,
      (rng) => () => (rng.float() < 0.3 ? 0 : rng.float() < 0.3 ? 1 + rng.int(3) : rng.int(400)),
    ],
    ['one user', 1000, 1, 2000, () => () => 0],
    ['the last user only, the others empty', 100, 50, 200, () => () => 49],
    ['one row', 1, 5, 5, () => () => 3],
  ];
  for (const [name, rows, nUsers, nItems, makeUserOf] of cases) {
    it(`equals a reference sort by (user, item) carrying the other columns: ${name}`, () => {
      for (const seed of [1, 2, 3]) {
        const rng = new Rng(seed);
        const cols = randomColumns(rng, rows, nUsers, nItems, makeUserOf(rng));
        const expected = referenceSorted(cols);
        sortCanonically(cols, nUsers);
        expect(rowsOf(cols)).toEqual(expected);
      }
    });
  }

  it('sorts already sorted and reversed input, and empty columns', () => {
    const rng = new Rng(7);
    const cols = randomColumns(rng, 500, 20, 1000, () => rng.int(20));
    const expected = referenceSorted(cols);
    sortCanonically(cols, 20);
    sortCanonically(cols, 20);
    expect(rowsOf(cols)).toEqual(expected);
    for (const column of Object.values(cols) as { reverse(): void }[]) column.reverse();
    sortCanonically(cols, 20);
    expect(rowsOf(cols)).toEqual(expected);
    const empty: InteractionColumns = {
      users: new Int32Array(0),
      items: new Int32Array(0),
      splits: new Int8Array(0),
      ratings: new Float32Array(0),
      timestamps: new BigInt64Array(0),
    };
    sortCanonically(empty, 3);
    expect(empty.users.length).toBe(0);
  });

  it('works in the columns it is given: the same arrays, nothing per row allocated', () => {
    // 1 M rows of 21 bytes: a per-row Int32 index would be 4 MB more; the columns keep their identity.
    const rows = 1 << 20;
    const nUsers = 1 << 14;
    const rng = new Rng(5);
    const users = Int32Array.from({ length: rows }, () => rng.int(nUsers));
    const items = Int32Array.from({ length: rows }, (_, k) => k); // distinct, so pairs never repeat
    const cols: InteractionColumns = {
      users,
      items,
      splits: Int8Array.from(items, (k) => k % 3),
      ratings: Float32Array.from(items, (k) => k),
      timestamps: BigInt64Array.from(items, (k) => BigInt(k)),
    };
    const before = process.memoryUsage().arrayBuffers;
    sortCanonically(cols, nUsers);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 * nUsers + (1 << 20));
    expect(cols.users).toBe(users);
    expect(cols.items).toBe(items);
    for (let k = 1; k < rows; k++) {
      const ordered = users[k - 1] < users[k] || (users[k - 1] === users[k] && items[k - 1] < items[k]);
      if (!ordered) expect.fail(`rows ${k - 1} and ${k} out of order`);
    }
    for (let k = 0; k < rows; k++) {
      const row = items[k];
      if (cols.splits[k] !== row % 3 || cols.ratings[k] !== row || cols.timestamps[k] !== BigInt(row)) {
        expect.fail(`row ${k} came apart`);
      }
    }
  }, 120_000);
});
