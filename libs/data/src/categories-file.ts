import { extname } from 'node:path';
import { DatasetError } from '@sgfd/contracts';
import type { Table } from 'apache-arrow';
import { readNpyIntVector } from './npy';
import { readParquetTable } from './parquet-io';
import { forEachLine } from './text-lines';
import { INITIAL_ROWS, nextCapacity, resized, trimmed } from './growable';
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
    const checkRows = (rows: number): void => {
      if (rows !== nItems) {
        throw new DatasetError('Categories missing for some items', {
          file: path,
          field: 'shape',
          expected: `one category for each of the ${nItems} items`,
          found: `${rows} categories`,
        });
      }
    };
    const categories = await readNpyIntVector(path, 'item category file', { checkRows });
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
    throw new DatasetError('Unknown category file type', {
      file: path,
      expected: '.npy, .csv or .parquet',
      found: ext || 'no extension',
    });
  }
  const categories = new Int32Array(nItems).fill(-1);
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    if (item >= nItems) {
      throw new DatasetError('Item id out of range in category file', {
        file: path,
        row: k + rowBase,
        field: 'item',
        expected: `an integer in [0, ${nItems})`,
        found: String(item),
      });
    }
    if (categories[item] !== -1) {
      throw new DatasetError(`Item ${item} has more than one category`, {
        file: path,
        row: k + rowBase,
        field: 'item',
        expected: 'one row per item',
        found: 'a repeat',
      });
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

/** Streams a CSV/TSV with an item and a category column (header on line 1), stopping at the first bad line. */
async function readCategoryCsv(path: string): Promise<{ items: Int32Array; values: Int32Array }> {
  let layout: { delimiter: string; width: number; item: number; category: number } | null = null;
  let items = new Int32Array(INITIAL_ROWS);
  let values = new Int32Array(INITIAL_ROWS);
  let rows = 0;
  let chars = 0;
  let fileBytes = 0;
  const onLine = (text: string, line: number): void => {
    if (layout === null) {
      const delimiter = text.includes('\t') ? '\t' : ',';
      const header = text.split(delimiter).map((h) => h.trim());
      const item = header.findIndex((h) => h === 'item' || h === 'itemID');
      const category = header.indexOf('category');
      if (item < 0 || category < 0) {
        throw new DatasetError('Wrong header in category file', {
          file: path,
          row: 1,
          expected: "columns 'item,category'",
          found: `'${text}'`,
        });
      }
      layout = { delimiter, width: header.length, item, category };
      return;
    }
    const capacity = nextCapacity(rows, chars, fileBytes, items.length);
    if (capacity !== items.length) [items, values] = [resized(items, capacity), resized(values, capacity)];
    const fields = text.split(layout.delimiter);
    if (fields.length !== layout.width) {
      throw new DatasetError('Wrong number of fields', {
        file: path,
        row: line,
        expected: `${layout.width} fields`,
        found: `${fields.length}`,
      });
    }
    items[rows] = parseNonNegative(fields[layout.item], path, line, 'item');
    values[rows] = parseNonNegative(fields[layout.category], path, line, 'category');
    rows++;
    chars += text.length + 1;
  };
  await forEachLine(path, 'item category file', onLine, (source) => (fileBytes = source.bytes));
  if (layout === null) {
    throw new DatasetError('Wrong header in category file', {
      file: path,
      row: 1,
      expected: "columns 'item,category'",
      found: 'an empty file',
    });
  }
  return { items: trimmed(items, rows), values: trimmed(values, rows) };
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
