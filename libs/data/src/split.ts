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
 * Writes into `out` when given (one byte a row, so a large import holds no second split column).
 * Groups the rows by user through a 4-byte row index; a table already in canonical order needs none
 * (assignSortedSplits).
 */
export function assignSplits(
  users: Int32Array,
  items: Int32Array,
  nUsers: number,
  seed: number,
  out: Int8Array = new Int8Array(users.length),
): Int8Array {
  const rng = new Rng(seed);
  const { indptr, rows } = groupRowsByUser(users, nUsers);
  for (let u = 0; u < nUsers; u++) {
    const own = rows.subarray(indptr[u], indptr[u + 1]);
    own.sort((a, b) => items[a] - items[b]);
    splitUserRows(own, rng, out);
  }
  return out;
}

/**
 * assignSplits for rows in canonical order (sortCanonically: by user, then item, no repeated pair): each
 * user's rows are one run already in item order, so the split is the same for the same (user, item)
 * pairs and seed, and the only scratch is one user's row numbers.
 */
export function assignSortedSplits(
  users: Int32Array,
  nUsers: number,
  seed: number,
  out: Int8Array = new Int8Array(users.length),
): Int8Array {
  const rng = new Rng(seed);
  const scratch = new Int32Array(longestRun(users));
  let start = 0;
  for (let u = 0; u < nUsers; u++) {
    let end = start;
    while (end < users.length && users[end] === u) end++;
    const own = scratch.subarray(0, end - start);
    for (let p = 0; p < own.length; p++) own[p] = start + p;
    splitUserRows(own, rng, out);
    start = end;
  }
  return out;
}

/** One user's split: its rows (given in item order) shuffled, then cut by splitSizes. */
function splitUserRows(own: Int32Array, rng: Rng, out: Int8Array): void {
  rng.shuffle(own);
  const sizes = splitSizes(own.length);
  const noTraining = sizes.train === 0;
  for (let p = 0; p < own.length; p++) {
    const code = p < sizes.train ? SplitCode.train : p < sizes.train + sizes.valid ? SplitCode.valid : SplitCode.test;
    out[own[p]] = noTraining ? DROPPED : code;
  }
}

/** The length of the longest run of equal values. */
function longestRun(values: Int32Array): number {
  let longest = 0;
  for (let start = 0, k = 1; k <= values.length; k++) {
    if (k === values.length || values[k] !== values[start]) {
      longest = Math.max(longest, k - start);
      start = k;
    }
  }
  return longest;
}

/**
 * Splits `cols` in place: its split column is overwritten and the dropped rows are compacted away, so the
 * result shares (views of) the caller's arrays and costs no second copy of the table.
 */
export function splitInteractions(
  cols: InteractionColumns,
  nUsers: number,
  seed: number,
): { cols: InteractionColumns; dropped: number } {
  assignSplits(cols.users, cols.items, nUsers, seed, cols.splits);
  return withoutDroppedRows(cols);
}

/**
 * splitInteractions for columns in canonical order (see assignSortedSplits), which stay in that order:
 * the same split, with nothing allocated per row.
 */
export function splitSortedInteractions(
  cols: InteractionColumns,
  nUsers: number,
  seed: number,
): { cols: InteractionColumns; dropped: number } {
  assignSortedSplits(cols.users, nUsers, seed, cols.splits);
  return withoutDroppedRows(cols);
}

/** Compacts away, in place and in order, the rows whose split is DROPPED. */
function withoutDroppedRows(cols: InteractionColumns): { cols: InteractionColumns; dropped: number } {
  const splits = cols.splits;
  let kept = 0;
  for (let k = 0; k < splits.length; k++) {
    if (splits[k] === DROPPED) continue;
    if (kept !== k) {
      cols.users[kept] = cols.users[k];
      cols.items[kept] = cols.items[k];
      splits[kept] = splits[k];
      cols.ratings[kept] = cols.ratings[k];
      cols.timestamps[kept] = cols.timestamps[k];
    }
    kept++;
  }
  const dropped = splits.length - kept;
  if (dropped === 0) return { cols, dropped };
  return {
    cols: {
      users: cols.users.subarray(0, kept),
      items: cols.items.subarray(0, kept),
      splits: splits.subarray(0, kept),
      ratings: cols.ratings.subarray(0, kept),
      timestamps: cols.timestamps.subarray(0, kept),
    },
    dropped,
  };
}
