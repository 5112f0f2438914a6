import { SplitCode } from '@sgfd/contracts';
import type { InteractionColumns } from './dataset-input';
import { Rng } from './random';
import { groupRowsByUser } from './validate';

/** Marks a row dropped by the split (valid/test row of a user left without training rows). */
export const DROPPED = -1;

export interface SplitSizes {
  train: number;
  valid: number;
  test: number;
}

/**
 * MMRec's per-user rule: 8:1:1 (valid and test each round(n/10)), and n-2 / 1 / 1 for users with fewer
 * than 10 interactions. A user with one interaction gets 0 / 0 / 1.
 */
export function splitSizes(n: number): SplitSizes {
  if (n >= 10) {
    const tenth = Math.round(n / 10);
    return { train: n - 2 * tenth, valid: tenth, test: tenth };
  }
  if (n >= 2) return { train: n - 2, valid: 1, test: 1 };
  return { train: 0, valid: 0, test: n };
}

/**
 * Seeded per-user random split. Each user's rows are put in item order before shuffling, so the result
 * depends on the data and the seed, not on the row order of the source. Users left without training rows
 * (fewer than 3 interactions) have their valid/test rows marked DROPPED, as MMRec drops cold-start users.
 */
export function assignSplits(users: Int32Array, items: Int32Array, nUsers: number, seed: number): Int8Array {
  const rng = new Rng(seed);
  const { indptr, rows } = groupRowsByUser(users, nUsers);
  const splits = new Int8Array(users.length);
  for (let u = 0; u < nUsers; u++) {
    const own = rows.subarray(indptr[u], indptr[u + 1]);
    own.sort((a, b) => items[a] - items[b]);
    rng.shuffle(own);
    const sizes = splitSizes(own.length);
    const noTraining = sizes.train === 0;
    for (let p = 0; p < own.length; p++) {
      const code = p < sizes.train ? SplitCode.train : p < sizes.train + sizes.valid ? SplitCode.valid : SplitCode.test;
      splits[own[p]] = noTraining ? DROPPED : code;
    }
  }
  return splits;
}

/** Rows whose mask entry is non-zero, as new columns. */
export function selectRows(cols: InteractionColumns, keep: Uint8Array): InteractionColumns {
  let n = 0;
  for (let k = 0; k < keep.length; k++) if (keep[k]) n++;
  const out: InteractionColumns = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    splits: new Int8Array(n),
    ratings: new Float32Array(n),
    timestamps: new BigInt64Array(n),
  };
  let p = 0;
  for (let k = 0; k < keep.length; k++) {
    if (!keep[k]) continue;
    out.users[p] = cols.users[k];
    out.items[p] = cols.items[k];
    out.splits[p] = cols.splits[k];
    out.ratings[p] = cols.ratings[k];
    out.timestamps[p] = cols.timestamps[k];
    p++;
  }
  return out;
}

/** Splits `cols` in place of its split column and removes the dropped rows. */
export function splitInteractions(
  cols: InteractionColumns,
  nUsers: number,
  seed: number,
): { cols: InteractionColumns; dropped: number } {
  const splits = assignSplits(cols.users, cols.items, nUsers, seed);
  const keep = new Uint8Array(splits.length);
  let dropped = 0;
  for (let k = 0; k < splits.length; k++) {
    if (splits[k] === DROPPED) dropped++;
    else keep[k] = 1;
  }
  const withSplits = { ...cols, splits };
  return { cols: dropped === 0 ? withSplits : selectRows(withSplits, keep), dropped };
}
