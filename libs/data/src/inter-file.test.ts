import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInterFile } from './inter-file';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-inter-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** `rows` rows whose line length changes after the first 4096 (the rows the column capacity is sized from). */
async function interFile(name: string, rows: number, padFirst: number, padRest: number): Promise<string> {
  const lines = ['userID\titemID\trating\ttimestamp\tnote'];
  for (let k = 0; k < rows; k++)
    lines.push(`${k % 97}\t${k}\t${k % 5}\t${1e9 + k}\t${'x'.repeat(k < 4096 ? padFirst : padRest)}`);
  const path = join(work, name);
  // CRLF line endings and trailing empty lines, as exported from spreadsheets.
  await writeFile(path, `${lines.join('\r\n')}\r\n\r\n\n`);
  return path;
}

describe('the streaming .inter reader', () => {
  it.each([
    ['later lines shorter than the sample (the columns grow)', 200, 0],
    ['later lines longer than the sample (capacity to spare)', 0, 200],
    ['uniform lines', 3, 3],
  ])('reads every row exactly: %s', async (_name, padFirst, padRest) => {
    const rows = 30_000;
    const { cols, hasSplit, rowBase } = await readInterFile(
      await interFile(`f${padFirst}-${padRest}.inter`, rows, padFirst, padRest),
    );
    expect([hasSplit, rowBase]).toEqual([false, 2]);
    expect(cols.users.length).toBe(rows);
    for (const column of Object.values(cols)) expect(column.length).toBe(rows);
    for (const k of [0, 4095, 4096, 4097, 12_345, rows - 1]) {
      expect([cols.users[k], cols.items[k], cols.ratings[k], cols.timestamps[k]]).toEqual([
        k % 97,
        k,
        k % 5,
        BigInt(1e9 + k),
      ]);
    }
  });

  it('rejects an empty line between rows, naming its line', async () => {
    const path = join(work, 'gap.inter');
    await writeFile(path, 'userID\titemID\n0\t0\n\n1\t1\n');
    await expect(readInterFile(path)).rejects.toThrow(
      /gap\.inter, row 3: expected 2 tab-separated fields as in the header, found 1 field/,
    );
  });
});
