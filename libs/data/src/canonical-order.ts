import type { InteractionColumns } from './dataset-input';
import { groupRowsByUser } from './validate';

type Column = Int32Array | Int8Array | Float32Array | BigInt64Array;

/**
 * The canonical row order of a snapshot (by user, then item) as a permutation: `order[p]` is the input row
 * at position p. The columns are never copied in this order; readers gather them a batch at a time.
 */
export function canonicalOrder(cols: InteractionColumns, nUsers: number): Int32Array {
  const { indptr, rows } = groupRowsByUser(cols.users, nUsers);
  const items = cols.items;
  for (let u = 0; u < nUsers; u++) rows.subarray(indptr[u], indptr[u + 1]).sort((a, b) => items[a] - items[b]);
  return rows;
}

/** `column` in `order`, `batchRows` values at a time (each batch a new array). */
export function* gatheredColumn<T extends Column>(column: T, order: Int32Array, batchRows: number): Generator<T> {
  for (let start = 0; start < order.length; start += batchRows) {
    yield gather(column, order.subarray(start, Math.min(start + batchRows, order.length)));
  }
}

/** All interaction columns in `order`, `batchRows` rows at a time. */
export function* gatheredRows(
  cols: InteractionColumns,
  order: Int32Array,
  batchRows: number,
): Generator<InteractionColumns> {
  for (let start = 0; start < order.length; start += batchRows) {
    const positions = order.subarray(start, Math.min(start + batchRows, order.length));
    yield {
      users: gather(cols.users, positions),
      items: gather(cols.items, positions),
      splits: gather(cols.splits, positions),
      ratings: gather(cols.ratings, positions),
      timestamps: gather(cols.timestamps, positions),
    };
  }
}

function gather<T extends Column>(column: T, positions: Int32Array): T {
  const out = new (column.constructor as new (n: number) => T)(positions.length);
  for (let p = 0; p < positions.length; p++) out[p] = column[positions[p]];
  return out;
}
