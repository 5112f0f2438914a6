// A user's own catalogue: an interaction log and an items table naming users and items by their own ids
// (strings or integers), with text columns, an image path column and a category label or path. Read into a
// DatasetInput with dense indices (ids sorted, so row order never changes the snapshot) and the id maps, and
// the item contents that feature extraction encodes.
import { dirname, isAbsolute, resolve } from 'node:path';
import { DatasetError } from '@sgfd/contracts';
import type { DatasetInput, InteractionColumns, RowOrigin } from '../dataset-input';
import { DEFAULT_SPLIT_SEED } from '../mmrec-import';
import { splitInteractions } from '../split';
import { float32Value, int64Value } from '../value-ranges';
import type { OriginalIds } from './id-map';
import { readRawTable, type RawTable, type RawValue } from './raw-table';

export interface RawCatalogueColumns {
  /** Interactions table. */
  user: string;
  item: string;
  rating?: string;
  timestamp?: string;
  /** Items table. */
  itemId: string;
  /** Text columns, encoded together in this order (see the text encoder's settings). */
  text: string[];
  /** Image file paths, relative to the items table's folder or absolute. */
  image?: string;
  /** A category label, or a path such as `Office > Paper > Notebooks` (see `categoryLevel`). */
  category?: string;
}

export const DEFAULT_RAW_COLUMNS: RawCatalogueColumns = {
  user: 'user',
  item: 'item',
  itemId: 'item',
  text: [],
};

export type UnknownItemPolicy = 'reject' | 'drop';

export interface RawCatalogueOptions {
  /** Interactions: Parquet, CSV or JSON Lines. */
  interactions: string;
  /** Items: Parquet, CSV or JSON Lines. */
  items: string;
  columns?: Partial<RawCatalogueColumns>;
  /** Cut category paths to their first N levels (1 = the top level); absent = the whole label. */
  categoryLevel?: number;
  /** Separator of the levels of a category path (default `>`; spaces around levels are trimmed). */
  categorySeparator?: string;
  /** Interactions naming an item the items table lacks: an error (default) or dropped and counted. */
  unknownItems?: UnknownItemPolicy;
  splitSeed?: number;
}

/** What feature extraction reads: each item's content, by dense index. */
export interface CatalogueItems {
  file: string;
  /** Original ids, by dense index. */
  ids: string[];
  /** Row of each item in the items table, as reported in errors. */
  rows: number[];
  /** Text per column name, by dense index (null where the cell is empty). */
  texts: Record<string, (string | null)[]>;
  /** Absolute image paths, by dense index (null where the cell is empty); absent without an image column. */
  images: (string | null)[] | null;
}

export interface RawCatalogue {
  /** The dataset without features (extraction adds them), with `ids` and category labels. */
  input: DatasetInput;
  ids: OriginalIds;
  /** Category label of each category id, or null without a category column. */
  categoryLabels: string[] | null;
  items: CatalogueItems;
  /** Interactions dropped because their item is not in the items table (`unknownItems: 'drop'`). */
  droppedUnknownItems: number;
  /** Interactions dropped by the split (valid/test rows of users without training rows). */
  droppedRows: number;
}

function idValue(value: RawValue, table: RawTable, k: number, field: string): string {
  const where = { file: table.file, row: table.rowOf(k), field };
  if (value === null || (typeof value === 'string' && value.trim() === '')) {
    throw new DatasetError(`Missing id in column '${field}'`, { ...where, expected: 'an id', found: 'an empty value' });
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new DatasetError(`Non-integer id in column '${field}'`, {
      ...where,
      expected: 'a string or an integer',
      found: String(value),
    });
  }
  if (typeof value === 'boolean') {
    throw new DatasetError(`Boolean id in column '${field}'`, {
      ...where,
      expected: 'a string or an integer',
      found: String(value),
    });
  }
  return String(value);
}

/** Ids in a canonical order: numerically when all are integers, else by code unit. */
function sortedIds(ids: Iterable<string>): string[] {
  const list = [...new Set(ids)];
  const numeric = list.every((id) => /^-?\d{1,15}$/.test(id));
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function textValue(value: RawValue): string | null {
  if (value === null) return null;
  const text = String(value);
  return text.trim() === '' ? null : text;
}

function categoryLabel(value: RawValue, table: RawTable, k: number, field: string, options: RawCatalogueOptions) {
  const text = textValue(value);
  if (text === null) {
    throw new DatasetError(`Missing category in column '${field}'`, {
      file: table.file,
      row: table.rowOf(k),
      field,
      expected: 'a category label or path for every item',
      found: 'an empty value',
    });
  }
  if (options.categoryLevel === undefined) return text.trim();
  const separator = options.categorySeparator ?? '>';
  const levels = text
    .split(separator)
    .map((level) => level.trim())
    .filter((level) => level.length > 0);
  return levels.slice(0, options.categoryLevel).join(` ${separator} `);
}

/** Reads the items table: one row per item id; a repeated id must repeat the same content. */
function readItems(table: RawTable, names: RawCatalogueColumns, options: RawCatalogueOptions) {
  const idColumn = table.column(names.itemId);
  const textColumns = names.text.map((name) => [name, table.column(name)] as const);
  const imageColumn = names.image ? table.column(names.image) : null;
  const categoryColumn = names.category ? table.column(names.category) : null;
  const baseDir = dirname(table.file);
  const firstRow = new Map<string, number>();
  const content = (k: number) =>
    JSON.stringify([
      textColumns.map(([, values]) => textValue(values[k])),
      imageColumn ? textValue(imageColumn[k]) : null,
      categoryColumn ? textValue(categoryColumn[k]) : null,
    ]);
  for (let k = 0; k < table.nRows; k++) {
    const id = idValue(idColumn[k], table, k, names.itemId);
    const first = firstRow.get(id);
    if (first === undefined) {
      firstRow.set(id, k);
    } else if (content(first) !== content(k)) {
      throw new DatasetError(`Item '${id}' appears twice with different content`, {
        file: table.file,
        row: table.rowOf(k),
        field: names.itemId,
        expected: `each item id once, or repeated with the same content as row ${table.rowOf(first)}`,
        found: 'a different text, image or category',
      });
    }
  }
  const ids = sortedIds(firstRow.keys());
  const rowsOfItems = ids.map((id) => firstRow.get(id)!);
  const texts: Record<string, (string | null)[]> = {};
  for (const [name, values] of textColumns) texts[name] = rowsOfItems.map((k) => textValue(values[k]));
  for (let i = 0; i < ids.length && textColumns.length > 0; i++) {
    if (textColumns.every(([name]) => texts[name][i] === null)) {
      const k = rowsOfItems[i];
      throw new DatasetError(`Empty text for item '${ids[i]}'`, {
        file: table.file,
        row: table.rowOf(k),
        field: names.text.join(', '),
        expected: 'some text in at least one text column',
        found: 'only empty values',
      });
    }
  }
  const images = imageColumn
    ? rowsOfItems.map((k) => {
        const path = textValue(imageColumn[k]);
        return path === null ? null : isAbsolute(path) ? path : resolve(baseDir, path);
      })
    : null;
  const labelsByItem = categoryColumn
    ? rowsOfItems.map((k) => categoryLabel(categoryColumn[k], table, k, names.category!, options))
    : null;
  return { ids, rows: rowsOfItems.map((k) => table.rowOf(k)), texts, images, labelsByItem };
}

function numericValue(value: RawValue, table: RawTable, k: number, field: string): number | bigint {
  const where = { file: table.file, row: table.rowOf(k), field };
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  const text = value === null ? '' : String(value).trim();
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) {
    throw new DatasetError(`Not a number in column '${field}'`, {
      ...where,
      expected: 'a number',
      found: value === null ? 'an empty value' : String(value),
    });
  }
  return /^-?\d+$/.test(text) && !Number.isSafeInteger(n) ? BigInt(text) : n;
}

/** A (user, item) pair twice is an error naming both rows of the user's file. */
function checkNoRepeatedPairs(
  cols: InteractionColumns,
  kept: number[],
  table: RawTable,
  userIds: string[],
  itemIds: string[],
  names: RawCatalogueColumns,
): void {
  const firstRow = new Map<number, number>();
  const nItems = itemIds.length;
  for (let p = 0; p < kept.length; p++) {
    const key = cols.users[p] * nItems + cols.items[p];
    const first = firstRow.get(key);
    if (first !== undefined) {
      throw new DatasetError(`User '${userIds[cols.users[p]]}' interacts with item '${itemIds[cols.items[p]]}' twice`, {
        file: table.file,
        row: table.rowOf(kept[p]),
        field: `${names.user}, ${names.item}`,
        expected: 'each (user, item) pair once',
        found: `also at row ${table.rowOf(kept[first])}`,
      });
    }
    firstRow.set(key, p);
  }
}

/** Reads a raw catalogue into memory, validated, without writing or encoding anything. */
export async function readRawCatalogue(options: RawCatalogueOptions): Promise<RawCatalogue> {
  const names: RawCatalogueColumns = { ...DEFAULT_RAW_COLUMNS, ...options.columns };
  if (options.categoryLevel !== undefined && !(Number.isInteger(options.categoryLevel) && options.categoryLevel >= 1)) {
    throw new DatasetError('Invalid category level', {
      field: 'categoryLevel',
      expected: 'an integer >= 1 (1 = the top level of a category path)',
      found: String(options.categoryLevel),
    });
  }
  const itemsTable = await readRawTable(resolve(options.items), 'items table');
  const interTable = await readRawTable(resolve(options.interactions), 'interactions table');
  for (const table of [itemsTable, interTable]) {
    if (table.nRows === 0) {
      throw new DatasetError('Empty table', { file: table.file, expected: 'at least one row', found: 'no rows' });
    }
  }
  const items = readItems(itemsTable, names, options);
  const itemIndex = new Map(items.ids.map((id, i) => [id, i]));

  const userColumn = interTable.column(names.user);
  const itemColumn = interTable.column(names.item);
  const ratingColumn = names.rating ? interTable.column(names.rating) : null;
  const timeColumn = names.timestamp ? interTable.column(names.timestamp) : null;
  const kept: number[] = [];
  const itemOfRow: number[] = [];
  let droppedUnknownItems = 0;
  for (let k = 0; k < interTable.nRows; k++) {
    const id = idValue(itemColumn[k], interTable, k, names.item);
    const item = itemIndex.get(id);
    if (item === undefined) {
      if (options.unknownItems === 'drop') {
        droppedUnknownItems++;
        continue;
      }
      throw new DatasetError(`Interaction names item '${id}', which the items table does not have`, {
        file: interTable.file,
        row: interTable.rowOf(k),
        field: names.item,
        expected: `an item id of ${itemsTable.file} (or drop such rows with --unknown-items drop)`,
        found: id,
      });
    }
    kept.push(k);
    itemOfRow.push(item);
  }
  if (kept.length === 0) {
    throw new DatasetError('No interaction names a known item', {
      file: interTable.file,
      field: names.item,
      expected: `item ids of ${itemsTable.file}`,
      found: `${droppedUnknownItems} rows, all with unknown items`,
    });
  }
  const userIdOfRow = kept.map((k) => idValue(userColumn[k], interTable, k, names.user));
  const userIds = sortedIds(userIdOfRow);
  const userIndex = new Map(userIds.map((id, i) => [id, i]));
  const n = kept.length;
  const cols: InteractionColumns = {
    users: Int32Array.from(userIdOfRow, (id) => userIndex.get(id)!),
    items: Int32Array.from(itemOfRow),
    splits: new Int8Array(n),
    ratings: new Float32Array(n).fill(1),
    timestamps: new BigInt64Array(n),
  };
  kept.forEach((k, p) => {
    const where = { file: interTable.file, row: interTable.rowOf(k) };
    if (ratingColumn) {
      const v = numericValue(ratingColumn[k], interTable, k, names.rating!);
      cols.ratings[p] = float32Value(Number(v), { ...where, field: names.rating });
    }
    if (timeColumn) {
      const v = numericValue(timeColumn[k], interTable, k, names.timestamp!);
      cols.timestamps[p] = int64Value(v, { ...where, field: names.timestamp });
    }
  });
  checkNoRepeatedPairs(cols, kept, interTable, userIds, items.ids, names);
  const origin: RowOrigin = { file: interTable.file, rowBase: 0 };
  const splitSeed = options.splitSeed ?? DEFAULT_SPLIT_SEED;
  const { cols: split, dropped: droppedRows } = splitInteractions(cols, userIds.length, splitSeed);

  let categories: Int32Array | null = null;
  let categoryLabels: string[] | null = null;
  if (items.labelsByItem) {
    categoryLabels = sortedIds(items.labelsByItem);
    const categoryIndex = new Map(categoryLabels.map((label, c) => [label, c]));
    categories = Int32Array.from(items.labelsByItem, (label) => categoryIndex.get(label)!);
  }
  const ids: OriginalIds = { users: userIds, items: items.ids };
  const files = [interTable.file, itemsTable.file];
  return {
    input: {
      nUsers: userIds.length,
      nItems: items.ids.length,
      interactions: split,
      categories,
      features: {},
      ids,
      categoryLabels: categoryLabels ?? undefined,
      source: {
        kind: 'raw',
        description: `raw catalogue ${files.join(', ')}; split 8:1:1 per user with seed ${splitSeed}`,
        files,
        columns: names,
        categoryLevel: options.categoryLevel ?? null,
        unknownItems: options.unknownItems ?? 'reject',
        droppedUnknownItems,
        droppedRows,
      },
      origin: {
        interactions: origin,
        categories: { file: itemsTable.file, rowBase: 0 },
      },
    },
    ids,
    categoryLabels,
    items: { file: itemsTable.file, ids: items.ids, rows: items.rows, texts: items.texts, images: items.images },
    droppedUnknownItems,
    droppedRows,
  };
}
