import { IdMap as SnapshotIds, originalIds, type OriginalIds } from '@sgfd/data';

/**
 * External user and item ids <-> snapshot indices. The ids are the source's own (a raw catalogue's, kept by
 * the snapshot and read by `originalIds` of @sgfd/data); a snapshot of a source without ids of its own uses
 * the snapshot index in decimal ("0", "1", ...).
 */
export interface IdMap {
  userIndex(id: string): number | undefined;
  userId(index: number): string;
  itemIndex(id: string): number | undefined;
  itemId(index: number): string;
}

/** The serving view of a snapshot's id map (`originalIds`). */
export function servingIds(map: SnapshotIds): IdMap {
  return {
    userIndex: (id) => map.userOf(id),
    userId: (index) => map.user(index),
    itemIndex: (id) => map.itemOf(id),
    itemId: (index) => map.item(index),
  };
}

/**
 * The ids of a snapshot's users and items: the original ids when given (a snapshot's `originalIds`, or the
 * id columns of a scoring bundle), else the snapshot indices in decimal.
 */
export function snapshotIndexIds(nUsers: number, nItems: number, original: OriginalIds | null = null): IdMap {
  const parse = (id: string, n: number) => {
    if (!/^(0|[1-9]\d*)$/.test(id)) return undefined;
    const index = Number(id);
    return index < n ? index : undefined;
  };
  if (original) return servingIds(new SnapshotIds(nUsers, nItems, original));
  return {
    userIndex: (id) => parse(id, nUsers),
    userId: (index) => String(index),
    itemIndex: (id) => parse(id, nItems),
    itemId: (index) => String(index),
  };
}

/** The ids of the snapshot in `dir` (its original ids where the source had its own). */
export async function snapshotIds(dir: string): Promise<IdMap> {
  return servingIds(await originalIds(dir));
}
