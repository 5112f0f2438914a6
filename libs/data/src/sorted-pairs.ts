import type { InteractionColumns, RowOrigin } from './dataset-input';
import { checkSortedPairsDistinct, repeatedPairError } from './validate';

/** Calls `onPair(user, item, row)` for every input row, in input order (row 0 = the first data row). */
export type InputPairs = (onPair: (user: number, item: number, row: number) => void) => Promise<void>;

const NOT_SEEN = -1n;

/**
 * Rejects a repeated (user, item) pair in columns in canonical order (sortCanonically), naming the input
 * rows as checkNoDuplicatePairs does: the first row, in input order, whose pair came before, and where it
 * came first. Sorted, repeats are neighbours, so a valid table costs one read of the ids and nothing per
 * row. Only when there is a repeat is the input order needed back: `inputPairs` reads the pairs again and
 * each is looked up (binary search) in the sorted columns.
 *
 * On that failing path the timestamps column is overwritten: it holds, at the first row of each repeated
 * pair, the input row where that pair was seen first, so even an input full of repeats costs no memory.
 */
export async function checkSortedPairsNamingRows(
  cols: InteractionColumns,
  origin: RowOrigin,
  inputPairs: InputPairs,
): Promise<void> {
  const { users, items } = cols;
  if (!markRepeatedPairs(cols)) return;
  const firstRowOf = cols.timestamps;
  const repeatsNext = (at: number): boolean =>
    at + 1 < users.length && users[at + 1] === users[at] && items[at + 1] === items[at];
  await inputPairs((user, item, row) => {
    const at = lowerBound(users, items, user, item);
    if (at === users.length || users[at] !== user || items[at] !== item || !repeatsNext(at)) return;
    if (firstRowOf[at] === NOT_SEEN) firstRowOf[at] = BigInt(row);
    else throw repeatedPairError(user, item, row, Number(firstRowOf[at]), origin);
  });
  // Not found again: the input changed since it was read. The pair can still be named, without rows.
  checkSortedPairsDistinct(cols, origin);
}

/** Marks the first row of each repeated pair NOT_SEEN in the timestamps column; false if none repeats. */
function markRepeatedPairs(cols: InteractionColumns): boolean {
  const { users, items, timestamps } = cols;
  let found = false;
  let start = 0;
  for (let k = 1; k <= users.length; k++) {
    if (k < users.length && users[k] === users[start] && items[k] === items[start]) continue;
    if (k - start > 1) {
      timestamps[start] = NOT_SEEN;
      found = true;
    }
    start = k;
  }
  return found;
}

/** The first row whose (user, item) is not below (user, item), in columns sorted by user then item. */
function lowerBound(users: Int32Array, items: Int32Array, user: number, item: number): number {
  let low = 0;
  let high = users.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (users[mid] < user || (users[mid] === user && items[mid] < item)) low = mid + 1;
    else high = mid;
  }
  return low;
}
