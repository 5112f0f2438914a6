import { DatasetError } from '@sgfd/contracts';
import type { InteractionColumns } from './dataset-input';
import { readSourceText } from './source-files';

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

/**
 * Parses an MMRec `.inter` file: tab-separated with a header naming the columns (userID, itemID required;
 * rating, timestamp, x_label optional; others ignored). Errors name the line and column.
 */
export async function readInterFile(path: string): Promise<ParsedInter> {
  const text = await readSourceText(path, 'MMRec interaction file (.inter)');
  const lines = text.split('\n');
  const headerLine = lines[0].replace(/\r$/, '').replace(/^\uFEFF/, '');
  const header = headerLine.split('\t');
  if (header.length < 2) {
    const delimiter = headerLine.includes(',') ? 'commas' : headerLine.includes(';') ? 'semicolons' : headerLine.includes(' ') ? 'spaces' : 'no delimiter';
    throw new DatasetError('Wrong delimiter in .inter header', {
      file: path,
      row: 1,
      expected: `tab-separated columns '${INTER_HEADER.join('\\t')}'`,
      found: `${delimiter}: '${headerLine.slice(0, 80)}'`,
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
  const userCol = at('userID');
  const itemCol = at('itemID');
  const ratingCol = at('rating');
  const timeCol = at('timestamp');
  const splitCol = at('x_label');

  let end = lines.length;
  while (end > 1 && lines[end - 1].replace(/\r$/, '') === '') end--;
  const n = end - 1;
  const cols: InteractionColumns = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    splits: new Int8Array(n),
    ratings: new Float32Array(n),
    timestamps: new BigInt64Array(n),
  };
  for (let k = 0; k < n; k++) {
    const line = k + 2;
    const fields = lines[k + 1].replace(/\r$/, '').split('\t');
    if (fields.length !== header.length) {
      throw new DatasetError('Wrong number of fields', {
        file: path,
        row: line,
        expected: `${header.length} tab-separated fields as in the header`,
        found: `${fields.length} field${fields.length === 1 ? '' : 's'}`,
      });
    }
    cols.users[k] = parseId(fields[userCol], path, line, 'userID');
    cols.items[k] = parseId(fields[itemCol], path, line, 'itemID');
    if (ratingCol >= 0) {
      const r = Number(fields[ratingCol]);
      if (fields[ratingCol].trim() === '' || !Number.isFinite(r)) {
        throw new DatasetError('Invalid rating', { file: path, row: line, field: 'rating', expected: 'a finite number', found: `'${fields[ratingCol]}'` });
      }
      cols.ratings[k] = r;
    } else cols.ratings[k] = 1;
    if (timeCol >= 0) cols.timestamps[k] = parseTimestamp(fields[timeCol], path, line);
    if (splitCol >= 0) {
      const s = fields[splitCol].trim();
      if (!INT.test(s) || Number(s) < -128 || Number(s) > 127) {
        throw new DatasetError('Split label outside 0/1/2', { file: path, row: line, field: 'x_label', expected: '0 (train), 1 (valid) or 2 (test)', found: `'${s}'` });
      }
      cols.splits[k] = Number(s);
    }
  }
  return { cols, hasSplit: splitCol >= 0, rowBase: 2 };
}

function parseId(raw: string, file: string, row: number, field: string): number {
  const s = raw.trim();
  if (!INT.test(s)) {
    throw new DatasetError(`Non-integer id in '${field}'`, { file, row, field, expected: 'a non-negative integer', found: `'${raw}'` });
  }
  const v = Number(s);
  if (v < 0) throw new DatasetError(`Negative id in '${field}'`, { file, row, field, expected: 'a non-negative integer', found: s });
  if (v > 2147483646) throw new DatasetError(`Id out of range in '${field}'`, { file, row, field, expected: 'an integer below 2^31 - 1', found: s });
  return v;
}

function parseTimestamp(raw: string, file: string, row: number): bigint {
  const s = raw.trim();
  if (INT.test(s)) return BigInt(s);
  const v = Number(s);
  if (s === '' || !Number.isFinite(v)) {
    throw new DatasetError('Invalid timestamp', { file, row, field: 'timestamp', expected: 'a number (seconds)', found: `'${raw}'` });
  }
  return BigInt(Math.floor(v));
}
