import { resolve } from 'node:path';
import { DatasetError, MODALITIES, type Modality } from '@sgfd/contracts';
import { floatColumn, int64Column, integerColumn, listFeatureColumn } from './arrow-columns';
import type { DatasetInput, InteractionColumns, RowOrigin } from './dataset-input';
import { DEFAULT_SPLIT_SEED, type ImportResult } from './mmrec-import';
import { readParquetTable } from './parquet-io';
import { writeSnapshot } from './snapshot-write';
import { splitInteractions } from './split';
import type { FeatureMatrix } from './types';
import {
  checkIdsContiguous,
  maxId,
  checkIdsInRange,
  checkNotEmpty,
  checkNoDuplicatePairs,
  checkSplitLabels,
  checkUsersHaveTraining,
} from './validate';

export interface ParquetColumns {
  user: string;
  item: string;
  /** Optional columns: absent by default name means "not given"; a name given explicitly must exist. */
  rating?: string;
  timestamp?: string;
  split?: string;
  /** In the items table. */
  itemId: string;
  category?: string;
  /** Feature columns (list<float>) of the items table, by modality. */
  features: Partial<Record<Modality, string>>;
}

export const DEFAULT_PARQUET_COLUMNS: ParquetColumns = {
  user: 'user',
  item: 'item',
  itemId: 'item',
  features: {},
};
const OPTIONAL_DEFAULTS = { rating: 'rating', timestamp: 'timestamp', split: 'split', category: 'category' } as const;

export interface ParquetImportOptions {
  /** Interactions table: user, item and optionally rating, timestamp, split (0/1/2). */
  interactions: string;
  /** Items table: item id (0..n-1, each once, any order), optional category and list<float> feature columns. */
  items?: string;
  root: string;
  columns?: Partial<ParquetColumns>;
  splitSeed?: number;
}

/** Reads generic Parquet tables into memory, validated, without writing anything. */
export async function readParquetDataset(
  options: Omit<ParquetImportOptions, 'root'>,
): Promise<{ input: DatasetInput; droppedRows: number }> {
  const names = { ...DEFAULT_PARQUET_COLUMNS, ...options.columns };
  const explicit = options.columns ?? {};
  const interPath = resolve(options.interactions);
  const table = await readParquetTable(interPath, 'interactions table');
  const origin: RowOrigin = { file: interPath, rowBase: 0 };
  checkNotEmpty(table.numRows, origin);
  const optional = (key: keyof typeof OPTIONAL_DEFAULTS, t = table): string | undefined => {
    const given = explicit[key];
    if (given !== undefined) return given;
    return t.getChild(OPTIONAL_DEFAULTS[key]) ? OPTIONAL_DEFAULTS[key] : undefined;
  };
  const n = table.numRows;
  const ratingName = optional('rating');
  const timeName = optional('timestamp');
  const splitName = optional('split');
  let cols: InteractionColumns = {
    users: integerColumn(table, names.user, interPath, { min: 0, max: 2147483646 }),
    items: integerColumn(table, names.item, interPath, { min: 0, max: 2147483646 }),
    splits: splitName
      ? Int8Array.from(integerColumn(table, splitName, interPath, { min: -128, max: 127 }))
      : new Int8Array(n),
    ratings: ratingName ? floatColumn(table, ratingName, interPath) : new Float32Array(n).fill(1),
    timestamps: timeName ? int64Column(table, timeName, interPath) : new BigInt64Array(n),
  };
  const nUsers = maxId(cols.users) + 1;
  checkIdsContiguous(cols.users, nUsers, names.user, origin);

  let nItems: number;
  let categories: Int32Array | null = null;
  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  const featureOrigins: Partial<Record<Modality, RowOrigin>> = {};
  let itemsPath: string | undefined;
  if (options.items) {
    itemsPath = resolve(options.items);
    const items = await readParquetTable(itemsPath, 'items table');
    const itemOrigin: RowOrigin = { file: itemsPath, rowBase: 0 };
    checkNotEmpty(items.numRows, itemOrigin);
    nItems = items.numRows;
    const ids = integerColumn(items, names.itemId, itemsPath, { min: 0, max: nItems - 1 });
    const seen = new Int32Array(nItems).fill(-1);
    ids.forEach((id, row) => {
      if (seen[id] >= 0) {
        throw new DatasetError(`Item ${id} appears twice in the items table`, {
          file: itemsPath,
          row,
          field: names.itemId,
          expected: 'each item id once',
          found: `also at row ${seen[id]}`,
        });
      }
      seen[id] = row;
    });
    checkIdsInRange(cols.items, nItems, names.item, origin);
    const categoryName = optional('category', items);
    if (categoryName) {
      const byRow = integerColumn(items, categoryName, itemsPath, { min: 0 });
      categories = new Int32Array(nItems);
      ids.forEach((id, row) => (categories![id] = byRow[row]));
    }
    const wanted =
      explicit.features ?? Object.fromEntries(MODALITIES.filter((m) => items.getChild(m)).map((m) => [m, m]));
    for (const modality of MODALITIES) {
      const column = wanted[modality];
      if (!column) continue;
      features[modality] = listFeatureColumn(items, column, itemsPath, ids);
      featureOrigins[modality] = itemOrigin;
    }
  } else {
    nItems = maxId(cols.items) + 1;
    checkIdsContiguous(cols.items, nItems, names.item, origin);
  }

  checkNoDuplicatePairs(cols.users, cols.items, nUsers, nItems, origin);
  let droppedRows = 0;
  if (splitName) {
    checkSplitLabels(cols.splits, origin, splitName);
    checkUsersHaveTraining(cols, nUsers, origin);
  } else {
    ({ cols, dropped: droppedRows } = splitInteractions(cols, nUsers, options.splitSeed ?? DEFAULT_SPLIT_SEED));
  }
  const files = [interPath, ...(itemsPath ? [itemsPath] : [])];
  return {
    input: {
      nUsers,
      nItems,
      interactions: cols,
      categories,
      features,
      source: {
        kind: 'parquet',
        description: `Parquet tables ${files.join(', ')}${splitName ? '' : `; split 8:1:1 per user with seed ${options.splitSeed ?? DEFAULT_SPLIT_SEED}`}`,
        files,
        columns: names,
        splitGiven: splitName !== undefined,
        droppedRows,
      },
      origin: {
        interactions: origin,
        categories: itemsPath ? { file: itemsPath, rowBase: 0 } : undefined,
        features: featureOrigins,
      },
    },
    droppedRows,
  };
}

export async function importParquet(options: ParquetImportOptions): Promise<ImportResult> {
  const { input, droppedRows } = await readParquetDataset(options);
  return { ...(await writeSnapshot(input, { root: options.root })), droppedRows };
}
