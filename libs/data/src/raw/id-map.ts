import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeVector, Table, vectorFromArray, Utf8 } from 'apache-arrow';
import { DatasetError } from '@sgfd/contracts';
import { decodeParquet } from '../parquet-io';
import { ITEMS_FILE, USERS_FILE } from '../snapshot-layout';
import { readManifest } from '../snapshot-load';

/** The original ids of a dataset's users and items, by dense index (what the source called them). */
export interface OriginalIds {
  users: string[];
  items: string[];
}

/**
 * Translates the dense indices of a snapshot back to the ids of its source. A snapshot made from a source
 * with its own ids (a raw catalogue) keeps them in `users.parquet` / `items.parquet`; for the others the
 * index is the id (`String(index)`), so callers never need to know which kind they have.
 */
export class IdMap {
  private userIndex?: Map<string, number>;
  private itemIndex?: Map<string, number>;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    private readonly ids: OriginalIds | null,
  ) {}

  /** True when the source had its own ids (else every id is its index as a string). */
  get hasOriginalIds(): boolean {
    return this.ids !== null;
  }

  user(index: number): string {
    return this.ids ? this.ids.users[index] : String(index);
  }

  item(index: number): string {
    return this.ids ? this.ids.items[index] : String(index);
  }

  /** The dense index of an original user id, or undefined when the snapshot has no such user. */
  userOf(id: string): number | undefined {
    if (!this.ids) return indexOf(id, this.nUsers);
    this.userIndex ??= new Map(this.ids.users.map((u, i) => [u, i]));
    return this.userIndex.get(id);
  }

  itemOf(id: string): number | undefined {
    if (!this.ids) return indexOf(id, this.nItems);
    this.itemIndex ??= new Map(this.ids.items.map((u, i) => [u, i]));
    return this.itemIndex.get(id);
  }
}

function indexOf(id: string, count: number): number | undefined {
  const n = Number(id);
  return /^\d+$/.test(id) && n < count ? n : undefined;
}

/** The id map of the snapshot in `dir`: the one function that turns indices into the ids people read. */
export async function originalIds(dir: string): Promise<IdMap> {
  const manifest = await readManifest(dir);
  const { users, items } = manifest.counts;
  if (!manifest.files.some((f) => f.path === USERS_FILE)) return new IdMap(users, items, null);
  const userIds = await idColumn(join(dir, USERS_FILE), 'id', users);
  const itemIds = await idColumn(join(dir, ITEMS_FILE), 'id', items);
  return new IdMap(users, items, { users: userIds, items: itemIds });
}

async function idColumn(path: string, name: string, rows: number): Promise<string[]> {
  const table = decodeParquet(await readFile(path), path);
  const column = table.getChild(name);
  if (!column || column.length !== rows || column.nullCount > 0) {
    throw new DatasetError('Snapshot id column missing or incomplete', {
      file: path,
      field: name,
      expected: `${rows} original ids`,
      found: column ? `${column.length} values, ${column.nullCount} null` : 'no such column',
    });
  }
  return Array.from(column, (v) => String(v));
}

/** users.parquet: user (int32 index), id (utf8 original id). */
export function usersTable(ids: string[]): Table {
  return new Table({ user: makeVector(Int32Array.from(ids, (_, i) => i)), id: vectorFromArray(ids, new Utf8()) });
}
