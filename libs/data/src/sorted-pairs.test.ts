import { describe, expect, it } from 'vitest';
import { DatasetError } from '@sgfd/contracts';
import { sortCanonically } from './canonical-order';
import type { InteractionColumns, RowOrigin } from './dataset-input';
import { Rng } from './random';
import { checkSortedPairsNamingRows, type InputPairs } from './sorted-pairs';
import { checkNoDuplicatePairs } from './validate';

const origin: RowOrigin = { file: 'x.inter', rowBase: 2 };

/** `rows` random pairs over few users and items, so some pairs repeat (some several times) when `rows` is large. */
function randomColumns(rng: Rng, rows: number, nUsers: number, nItems: number): InteractionColumns {
  const users = Int32Array.from({ length: rows }, () => rng.int(nUsers));
  const items = Int32Array.from({ length: rows }, () => rng.int(nItems));
  return {
    users,
    items,
    splits: new Int8Array(rows),
    ratings: new Float32Array(rows),
    timestamps: BigInt64Array.from(users, (_, k) => BigInt(k)),
  };
}

function copyOf(cols: InteractionColumns): InteractionColumns {
  return {
    users: cols.users.slice(),
    items: cols.items.slice(),
    splits: cols.splits.slice(),
    ratings: cols.ratings.slice(),
    timestamps: cols.timestamps.slice(),
  };
}

/** The pairs of `cols` in their row order, as an importer reads its input again. */
const pairsOf =
  (cols: InteractionColumns): InputPairs =>
  async (onPair) => {
    for (let k = 0; k < cols.users.length; k++) onPair(cols.users[k], cols.items[k], k);
  };

const failureOf = async (check: () => unknown): Promise<DatasetError | null> => {
  try {
    await check();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
};

describe('checkSortedPairsNamingRows', () => {
  it('names the same input rows as the check on the unsorted table, or passes as it does', async () => {
    let failures = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const rng = new Rng(seed);
      const nUsers = 1 + rng.int(20);
      const nItems = 1 + rng.int(30);
      const input = randomColumns(rng, rng.int(Math.ceil(nUsers * nItems * 0.3)) + 1, nUsers, nItems);
      const expected = await failureOf(() => checkNoDuplicatePairs(input.users, input.items, nUsers, nItems, origin));
      const sorted = copyOf(input);
      sortCanonically(sorted, nUsers);
      const got = await failureOf(() => checkSortedPairsNamingRows(sorted, origin, pairsOf(input)));
      expect(got?.message).toBe(expected?.message);
      expect(got?.location).toEqual(expected?.location);
      if (got) failures++;
    }
    // Both outcomes were exercised.
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(60);
  });

  it('names the pair without rows when the input read again no longer repeats it', async () => {
    const sorted: InteractionColumns = {
      users: Int32Array.of(0, 1, 1),
      items: Int32Array.of(4, 2, 2),
      splits: new Int8Array(3),
      ratings: new Float32Array(3),
      timestamps: new BigInt64Array(3),
    };
    const changed: InputPairs = async (onPair) => onPair(1, 2, 0);
    const error = await failureOf(() => checkSortedPairsNamingRows(sorted, origin, changed));
    expect(error?.message).toMatch(/^Duplicate \(user, item\) pair \(1, 2\) \(x\.inter, field 'userID,itemID'/);
    expect(error?.location.row).toBeUndefined();
  });

  it('passes a table without repeats reading nothing again and allocating nothing per row', async () => {
    const rows = 1 << 20;
    const sorted: InteractionColumns = {
      users: Int32Array.from({ length: rows }, (_, k) => Math.floor(k / 20)),
      items: Int32Array.from({ length: rows }, (_, k) => k % 20),
      splits: new Int8Array(rows),
      ratings: new Float32Array(rows),
      timestamps: new BigInt64Array(rows),
    };
    const never: InputPairs = () => Promise.reject(new Error('read again'));
    const before = process.memoryUsage().arrayBuffers;
    await expect(checkSortedPairsNamingRows(sorted, origin, never)).resolves.toBeUndefined();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 16);
  });
});
