import { DatasetError } from '@sgfd/contracts';
import type { InteractionColumns } from './dataset-input';
import { INITIAL_ROWS, nextCapacity, resized, trimmed } from './growable';
import { forEachLine } from './text-lines';
import { float32Value, int64Value } from './value-ranges';

export const INTER_HEADER = ['userID', 'itemID', 'rating', 'timestamp', 'x_label'] as const;
const REQUIRED = ['userID', 'itemID'] as const;

export interface ParsedInter {
  cols: InteractionColumns;
  /** Whether the file carried x_label (else the split column is all zeros and must be assigned). */
  hasSplit: boolean;
  /** Line number (1-based, header = 1) of data row k is k + rowBase. */
  rowBase: number;
}

const INT = /^-?\d+$/;
const WHAT = 'MMRec interaction file (.inter)';

interface Layout {
  width: number;
  user: number;
  item: number;
  rating: number;
  time: number;
  split: number;
}

function emptyColumns(n: number): InteractionColumns {
  return {
    users: new Int32Array(n),
    items: new Int32Array(n),
    splits: new Int8Array(n),
    ratings: new Float32Array(n),
    timestamps: new BigInt64Array(n),
  };
}

/** Each column through `change` in turn, so at most one old column is alive beside the new ones. */
function eachColumn(
  cols: InteractionColumns,
  change: <T extends Int32Array | Int8Array | Float32Array | BigInt64Array>(column: T) => T,
): InteractionColumns {
  cols.users = change(cols.users);
  cols.items = change(cols.items);
  cols.splits = change(cols.splits);
  cols.ratings = change(cols.ratings);
  cols.timestamps = change(cols.timestamps);
  return cols;
}

/**
 * Parses an MMRec `.inter` file: tab-separated with a header naming the columns (userID, itemID required;
 * rating, timestamp, x_label optional; others ignored). Streams the file line by line, so memory is the
 * output columns whatever the file size, and stops at the first bad line, naming the line and column.
 */
export async function readInterFile(path: string): Promise<ParsedInter> {
  let layout: Layout | null = null;
  let fileBytes = 0;
  let cols = emptyColumns(INITIAL_ROWS);
  let rows = 0;
  let chars = 0;
  await forEachLine(
    path,
    WHAT,
    (text, line) => {
      if (layout === null) {
        layout = parseHeader(text, path);
        return;
      }
      const capacity = nextCapacity(rows, chars, fileBytes, cols.users.length);
      if (capacity !== cols.users.length) cols = eachColumn(cols, (c) => resized(c, capacity));
      parseRow(text, line, layout, cols, rows, path);
      rows++;
      chars += text.length + 1;
    },
    (source) => (fileBytes = source.bytes),
  );
  if (layout === null) {
    throw new DatasetError('Empty .inter file', {
      file: path,
      row: 1,
      expected: `a header line '${INTER_HEADER.join('\\t')}'`,
      found: 'an empty file',
    });
  }
  return { cols: eachColumn(cols, (c) => trimmed(c, rows)), hasSplit: (layout as Layout).split >= 0, rowBase: 2 };
}

/**
 * Reads the rows of an `.inter` file again, in order, passing each one's (user, item) pair and data row
 * index (0 = the line after the header): for a check that needs the input order back after the columns
 * were sorted. Streams and parses exactly as readInterFile, one row at a time.
 */
export async function forEachInterPair(
  path: string,
  onPair: (user: number, item: number, row: number) => void,
): Promise<void> {
  let layout: Layout | null = null;
  const one = emptyColumns(1);
  let row = 0;
  await forEachLine(path, WHAT, (text, line) => {
    if (layout === null) {
      layout = parseHeader(text, path);
      return;
    }
    parseRow(text, line, layout, one, 0, path);
    onPair(one.users[0], one.items[0], row++);
  });
}

function parseHeader(line: string, path: string): Layout {
  const header = line.replace(/^\uFEFF/, '').split('\t');
  if (header.length < 2) {
    const delimiter = line.includes(',')
      ? 'commas'
      : line.includes(';')
        ? 'semicolons'
        : line.includes(' ')
          ? 'spaces'
          : 'no delimiter';
    throw new DatasetError('Wrong delimiter in .inter header', {
      file: path,
      row: 1,
      expected: `tab-separated columns '${INTER_HEADER.join('\\t')}'`,
      found: `${delimiter}: '${line.slice(0, 80)}'`,
    });
  }
  for (const name of REQUIRED) {
    if (!header.includes(name)) {
      throw new DatasetError(`Missing column '${name}' in .inter header`, {
        file: path,
        row: 1,
        field: name,
        expected: `a header with ${INTER_HEADER.join(', ')} (rating, timestamp, x_label optional)`,
        found: `'${header.join('\\t')}'`,
      });
    }
  }
  const at = (name: string): number => header.indexOf(name);
  return {
    width: header.length,
    user: at('userID'),
    item: at('itemID'),
    rating: at('rating'),
    time: at('timestamp'),
    split: at('x_label'),
  };
}

function parseRow(text: string, line: number, layout: Layout, cols: InteractionColumns, k: number, path: string): void {
  const fields = text.split('\t');
  if (fields.length !== layout.width) {
    throw new DatasetError('Wrong number of fields', {
      file: path,
      row: line,
      expected: `${layout.width} tab-separated fields as in the header`,
      found: `${fields.length} field${fields.length === 1 ? '' : 's'}`,
    });
  }
  cols.users[k] = parseId(fields[layout.user], path, line, 'userID');
  cols.items[k] = parseId(fields[layout.item], path, line, 'itemID');
  cols.ratings[k] = layout.rating >= 0 ? parseRating(fields[layout.rating], path, line) : 1;
  if (layout.time >= 0) cols.timestamps[k] = parseTimestamp(fields[layout.time], path, line);
  if (layout.split >= 0) {
    const s = fields[layout.split].trim();
    if (!INT.test(s) || Number(s) < -128 || Number(s) > 127) {
      throw new DatasetError('Split label outside 0/1/2', {
        file: path,
        row: line,
        field: 'x_label',
        expected: '0 (train), 1 (valid) or 2 (test)',
        found: `'${s}'`,
      });
    }
    cols.splits[k] = Number(s);
  }
}

function parseId(raw: string, file: string, row: number, field: string): number {
  const s = raw.trim();
  if (!INT.test(s)) {
    throw new DatasetError(`Non-integer id in '${field}'`, {
      file,
      row,
      field,
      expected: 'a non-negative integer',
      found: `'${raw}'`,
    });
  }
  const v = Number(s);
  if (v < 0)
    throw new DatasetError(`Negative id in '${field}'`, {
      file,
      row,
      field,
      expected: 'a non-negative integer',
      found: s,
    });
  if (v > 2147483646)
    throw new DatasetError(`Id out of range in '${field}'`, {
      file,
      row,
      field,
      expected: 'an integer below 2^31 - 1',
      found: s,
    });
  return v;
}

function parseRating(raw: string, file: string, row: number): number {
  const r = Number(raw);
  if (raw.trim() === '' || Number.isNaN(r)) {
    throw new DatasetError('Invalid rating', {
      file,
      row,
      field: 'rating',
      expected: 'a finite number',
      found: `'${raw}'`,
    });
  }
  return float32Value(r, { file, row, field: 'rating' }, `'${raw}'`);
}

function parseTimestamp(raw: string, file: string, row: number): bigint {
  const s = raw.trim();
  const where = { file, row, field: 'timestamp' };
  if (INT.test(s)) return int64Value(BigInt(s), where, `'${raw}'`);
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) {
    throw new DatasetError('Invalid timestamp', { ...where, expected: 'a number (seconds)', found: `'${raw}'` });
  }
  return int64Value(v, where, `'${raw}'`);
}
