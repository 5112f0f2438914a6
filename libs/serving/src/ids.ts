/**
 * External user and item ids <-> snapshot indices. Snapshots do not carry the source's original ids yet,
 * so an id is the snapshot index in decimal ("0", "1", ...). This is the one place the id maps replace.
 */
export interface IdMap {
  userIndex(id: string): number | undefined;
  userId(index: number): string;
  itemIndex(id: string): number | undefined;
  itemId(index: number): string;
}

export function snapshotIndexIds(nUsers: number, nItems: number): IdMap {
  const parse = (id: string, n: number) => {
    if (!/^(0|[1-9]\d*)$/.test(id)) return undefined;
    const index = Number(id);
    return index < n ? index : undefined;
  };
  return {
    userIndex: (id) => parse(id, nUsers),
    userId: (index) => String(index),
    itemIndex: (id) => parse(id, nItems),
    itemId: (index) => String(index),
  };
}
