import { extname } from 'node:path';
import { DatasetError } from '@sgfd/contracts';
import { parse as parseCsv } from 'csv-parse/sync';
import { decodeParquet } from '../parquet-io';
import { readSourceFile } from '../source-files';

export type RawValue = string | number | bigint | boolean | null;

/**
 * A user's table (Parquet, CSV or JSON Lines) as named columns of plain values, with the row number each
 * value came from as the user sees it: Parquet rows from 0, text files by line (CSV header on line 1).
 */
export interface RawTable {
  file: string;
  nRows: number;
  columnNames: string[];
  /** The values of a column; a missing column is a DatasetError naming the file and the columns there are. */
  column(name: string): RawValue[];
  has(name: string): boolean;
  /** The row number to report for element k. */
  rowOf(k: number): number;
}

export type RawTableFormat = 'parquet' | 'csv' | 'jsonl';

export function rawTableFormat(path: string): RawTableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new DatasetError('Unknown table format', {
    file: path,
    expected: 'a file ending in .parquet, .csv or .jsonl',
    found: ext ? `'${ext}'` : 'no extension',
  });
}

function tableOf(
  file: string,
  columnNames: string[],
  columns: Map<string, RawValue[]>,
  nRows: number,
  rowOf: (k: number) => number,
): RawTable {
  return {
    file,
    nRows,
    columnNames,
    has: (name) => columns.has(name),
    rowOf,
    column(name) {
      const values = columns.get(name);
      if (!values) {
        throw new DatasetError(`Missing column '${name}'`, {
          file,
          field: name,
          expected: `a column named '${name}'`,
          found: `columns ${columnNames.join(', ') || '(none)'}`,
        });
      }
      return values;
    },
  };
}

export async function readRawTable(path: string, what: string): Promise<RawTable> {
  const format = rawTableFormat(path);
  const bytes = await readSourceFile(path, what);
  if (format === 'parquet') {
    const table = decodeParquet(bytes, path);
    const names = table.schema.fields.map((f) => f.name);
    const columns = new Map<string, RawValue[]>();
    for (const name of names) {
      const vector = table.getChild(name)!;
      const values: RawValue[] = new Array(table.numRows);
      for (let k = 0; k < table.numRows; k++) values[k] = (vector.get(k) ?? null) as RawValue;
      columns.set(name, values);
    }
    return tableOf(path, names, columns, table.numRows, (k) => k);
  }
  const text = decodeUtf8(bytes, path);
  return format === 'csv' ? csvTable(text, path) : jsonLinesTable(text, path);
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DatasetError('Not UTF-8 text', { file, expected: 'a UTF-8 text file', found: 'invalid UTF-8 bytes' });
  }
}

function csvTable(text: string, file: string): RawTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsv(text, { info: true, skip_empty_lines: true, relax_quotes: false }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new DatasetError('Not a readable CSV file', {
      file,
      row: e.lines,
      expected: 'comma-separated values with a header line',
      found: e.message,
    });
  }
  if (records.length === 0) {
    throw new DatasetError('Empty CSV file', { file, expected: 'a header line and rows', found: 'nothing' });
  }
  const header = records[0].record;
  const body = records.slice(1);
  const columns = new Map<string, RawValue[]>(header.map((name) => [name, new Array<RawValue>(body.length)]));
  const lines = new Int32Array(body.length);
  body.forEach(({ record, info }, k) => {
    lines[k] = info.lines;
    if (record.length !== header.length) {
      throw new DatasetError('Wrong number of fields', {
        file,
        row: info.lines,
        expected: `${header.length} fields as in the header`,
        found: `${record.length}`,
      });
    }
    header.forEach((name, j) => (columns.get(name)![k] = record[j] === '' ? null : record[j]));
  });
  return tableOf(file, header, columns, body.length, (k) => lines[k]);
}

function jsonLinesTable(text: string, file: string): RawTable {
  const rows: Record<string, unknown>[] = [];
  const lineOf: number[] = [];
  const names: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new DatasetError('Not a JSON line', {
        file,
        row: index + 1,
        expected: 'one JSON object per line',
        found: (err as Error).message,
      });
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DatasetError('Not a JSON object', {
        file,
        row: index + 1,
        expected: 'one JSON object per line',
        found: line,
      });
    }
    for (const key of Object.keys(value)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
    rows.push(value as Record<string, unknown>);
    lineOf.push(index + 1);
  });
  const columns = new Map<string, RawValue[]>();
  for (const name of names) {
    columns.set(
      name,
      rows.map((row, k) => {
        const v = row[name];
        if (v === undefined || v === null) return null;
        if (typeof v === 'object') {
          throw new DatasetError(`Nested value in column '${name}'`, {
            file,
            row: lineOf[k],
            field: name,
            expected: 'a string, number or boolean',
            found: JSON.stringify(v),
          });
        }
        return v as RawValue;
      }),
    );
  }
  return tableOf(file, names, columns, rows.length, (k) => lineOf[k]);
}
