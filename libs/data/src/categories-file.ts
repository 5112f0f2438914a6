import { extname } from 'node:path';
import { DatasetError } from '@sgfd/contracts';
import type { Table } from 'apache-arrow';
import { readNpyIntVector } from './npy';
import { readParquetTable } from './parquet-io';
import { readSourceText } from './source-files';
import { integerColumn } from './arrow-columns';

export interface CategoryRows {
  /** Category of each item, -1 where the file had none. */
  categories: Int32Array;
  file: string;
  /** Reported row of entry k is k + rowBase. */
  rowBase: number;
}

/**
 * Reads item categories from `item_category.npy` (one integer per item, in item order) or a CSV/Parquet
 * table with columns item and category (any order, each item once). Every item in [0, nItems) must get
 * exactly one category.
 */
export async function readCategoryFile(path: string, nItems: number): Promise<CategoryRows> {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const categories = await readNpyIntVector(path, 'item category file');
    return { categories, file: path, rowBase: 0 };
  }
  let items: Int32Array;
  let values: Int32Array;
  let rowBase: number;
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') {
    ({ items, values } = await readCategoryCsv(path));
    rowBase = 2;
  } else if (ext === '.parquet') {
    ({ items, values } = categoryTable(await readParquetTable(path, 'item category file'), path));
    rowBase = 0;
  } else {
    throw new DatasetError('Unknown category file type', { file: path, expected: '.npy, .csv or .parquet', found: ext || 'no extension' });
  }
  const categories = new Int32Array(nItems).fill(-1);
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    if (item >= nItems) {
      throw new DatasetError('Item id out of range in category file', { file: path, row: k + rowBase, field: 'item', expected: `an integer in [0, ${nItems})`, found: String(item) });
    }
    if (categories[item] !== -1) {
      throw new DatasetError(`Item ${item} has more than one category`, { file: path, row: k + rowBase, field: 'item', expected: 'one row per item', found: 'a repeat' });
    }
    categories[item] = values[k];
  }
  const missing = categories.indexOf(-1);
  if (missing >= 0) {
    throw new DatasetError(`Categories missing for some items: item ${missing} has none`, {
      file: path,
      field: 'item',
      expected: `a category for every item 0..${nItems - 1}`,
      found: `${categories.filter((c) => c === -1).length} items without one`,
    });
  }
  return { categories, file: path, rowBase: 0 };
}

async function readCategoryCsv(path: string): Promise<{ items: Int32Array; values: Int32Array }> {
  const lines = (await readSourceText(path, 'item category file')).split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const delimiter = lines[0].includes('\t') ? '\t' : ',';
  const header = lines[0].replace(/^\uFEFF/, '').split(delimiter).map((h) => h.trim());
  const itemCol = header.findIndex((h) => h === 'item' || h === 'itemID');
  const catCol = header.indexOf('category');
  if (itemCol < 0 || catCol < 0) {
    throw new DatasetError('Wrong header in category file', { file: path, row: 1, expected: "columns 'item,category'", found: `'${lines[0]}'` });
  }
  const n = lines.length - 1;
  const items = new Int32Array(n);
  const values = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const fields = lines[k + 1].split(delimiter);
    if (fields.length !== header.length) {
      throw new DatasetError('Wrong number of fields', { file: path, row: k + 2, expected: `${header.length} fields`, found: `${fields.length}` });
    }
    items[k] = parseNonNegative(fields[itemCol], path, k + 2, 'item');
    values[k] = parseNonNegative(fields[catCol], path, k + 2, 'category');
  }
  return { items, values };
}

function parseNonNegative(raw: string, file: string, row: number, field: string): number {
  const s = raw.trim();
  const v = Number(s);
  if (!/^-?\d+$/.test(s) || v < 0 || v > 2147483647) {
    throw new DatasetError(field === 'category' ? 'Category out of range' : `Invalid ${field}`, {
      file,
      row,
      field,
      expected: 'a non-negative integer',
      found: `'${raw}'`,
    });
  }
  return v;
}

function categoryTable(table: Table, path: string): { items: Int32Array; values: Int32Array } {
  const itemName = table.getChild('item') ? 'item' : 'itemID';
  return {
    items: integerColumn(table, itemName, path, { min: 0 }),
    values: integerColumn(table, 'category', path, { min: 0 }),
  };
}
