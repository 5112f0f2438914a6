import type { InteractionColumns } from './dataset-input';

/** Segments up to this long are sorted by insertion, longer ones by heapsort. */
const INSERTION_SORT_MAX = 24;

/**
 * Sorts the interaction columns in place into the canonical row order of a snapshot: by user, then item
 * (all five columns move together). The extra memory is one Int32Array of `nUsers`, never anything per
 * row: an in-place counting ("American flag") sort by user, then each user's rows by item (insertion sort
 * for short runs, heapsort for long ones). Not stable: rows with the same (user, item) end up in either
 * order, which is why a snapshot rejects duplicate pairs. Every user id must be in [0, nUsers).
 */
export function sortCanonically(cols: InteractionColumns, nUsers: number): void {
  // The importers sort before the writer does: the second call is then one read of the ids.
  if (isCanonicallySorted(cols)) return;
  const rows = new RowSwapper(cols);
  const users = cols.users;
  const n = users.length;
  // end[u]: one past the last slot of u's rows still to fill (filled from the top down).
  const end = new Int32Array(nUsers);
  for (let k = 0; k < n; k++) end[users[k]]++;
  for (let u = 1; u < nUsers; u++) end[u] += end[u - 1];
  let start = 0;
  for (let u = 0; u < nUsers; u++) {
    // Slots before `start` hold the users before u, in place. Each step moves the row at `start` to the
    // top free slot of its user's range (cycle leader); the step that places a row of u at `start`
    // itself is the last one for u.
    while (end[u] > start) {
      const to = --end[users[start]];
      if (to !== start) rows.swap(start, to);
    }
    const from = start;
    while (start < n && users[start] === u) start++;
    sortByItem(rows, cols.items, from, start);
  }
}

/** Whether the rows are already in canonical order (by user, then item; equal pairs may be neighbours). */
export function isCanonicallySorted(cols: InteractionColumns): boolean {
  const { users, items } = cols;
  for (let k = 1; k < users.length; k++) {
    if (users[k] < users[k - 1] || (users[k] === users[k - 1] && items[k] < items[k - 1])) return false;
  }
  return true;
}

/** Sorts rows [from, to) by item, in place. */
function sortByItem(rows: RowSwapper, items: Int32Array, from: number, to: number): void {
  if (to - from <= INSERTION_SORT_MAX) {
    for (let i = from + 1; i < to; i++) {
      for (let j = i; j > from && items[j - 1] > items[j]; j--) rows.swap(j - 1, j);
    }
    return;
  }
  // Heapsort: a max-heap over the segment, then the largest moved to the end one at a time.
  const n = to - from;
  for (let root = (n >> 1) - 1; root >= 0; root--) siftDown(rows, items, from, root, n);
  for (let last = n - 1; last > 0; last--) {
    rows.swap(from, from + last);
    siftDown(rows, items, from, 0, last);
  }
}

function siftDown(rows: RowSwapper, items: Int32Array, base: number, root: number, size: number): void {
  for (;;) {
    let child = 2 * root + 1;
    if (child >= size) return;
    if (child + 1 < size && items[base + child + 1] > items[base + child]) child++;
    if (items[base + root] >= items[base + child]) return;
    rows.swap(base + root, base + child);
    root = child;
  }
}

/** Swaps whole rows of the five interaction columns. */
class RowSwapper {
  private readonly users: Int32Array;
  private readonly items: Int32Array;
  private readonly splits: Int8Array;
  private readonly ratings: Float32Array;
  private readonly timestamps: BigInt64Array;

  constructor(cols: InteractionColumns) {
    ({
      users: this.users,
      items: this.items,
      splits: this.splits,
      ratings: this.ratings,
      timestamps: this.timestamps,
    } = cols);
  }

  swap(a: number, b: number): void {
    const u = this.users[a];
    this.users[a] = this.users[b];
    this.users[b] = u;
    const i = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = i;
    const s = this.splits[a];
    this.splits[a] = this.splits[b];
    this.splits[b] = s;
    const r = this.ratings[a];
    this.ratings[a] = this.ratings[b];
    this.ratings[b] = r;
    const t = this.timestamps[a];
    this.timestamps[a] = this.timestamps[b];
    this.timestamps[b] = t;
  }
}
