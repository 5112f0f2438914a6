import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Int32, Table, vectorFromArray } from 'apache-arrow';
import { DatasetError, EnvironmentError, type UserError } from '@sgfd/contracts';
import type { DatasetInput } from './dataset-input';
import { importMmrec, type MmrecImportOptions } from './mmrec-import';
import { importParquet } from './parquet-import';
import { encodeParquet } from './parquet-io';
import { writeSnapshot } from './snapshot-write';
import { listColumn } from './test-support/arrow';
import { npyBytes } from './test-support/npy-bytes';

/**
 * Every kind of bad input gets a DatasetError naming the file, the row/field and what was expected, and
 * leaves nothing behind: no snapshot directory and no temp directory under the snapshot root.
 */

// Lines 2..10 of the .inter file (line 1 is the header): 3 users, 5 items.
const ROWS = [
  '0\t0\t5\t1\t0',
  '0\t1\t4\t2\t0',
  '0\t2\t3\t3\t1',
  '1\t1\t5\t4\t0',
  '1\t2\t2\t5\t0',
  '1\t3\t1\t6\t2',
  '2\t3\t4\t7\t0',
  '2\t4\t5\t8\t0',
  '2\t0\t3\t9\t2',
];
const HEADER = 'userID\titemID\trating\ttimestamp\tx_label';
const N_ITEMS = 5;

const features = (rows: number, dim: number): Float32Array => Float32Array.from({ length: rows * dim }, (_, k) => (k % 7) / 7);

interface FolderSpec {
  header?: string;
  rows?: string[];
  image?: Uint8Array | 'directory' | null;
  text?: Uint8Array | null;
  categories?: string | null;
}

let work: string;
let root: string;
let folder: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-validation-'));
  root = join(work, 'snapshots');
  await mkdir(root);
  folder = join(work, 'dataset');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeFolder(spec: FolderSpec = {}): Promise<string> {
  await mkdir(folder, { recursive: true });
  const lines = [spec.header ?? HEADER, ...(spec.rows ?? ROWS)];
  await writeFile(join(folder, 'ds.inter'), `${lines.join('\n')}\n`);
  const image = spec.image === undefined ? npyBytes({ descr: '<f4', shape: [N_ITEMS, 3], values: features(N_ITEMS, 3) }) : spec.image;
  if (image === 'directory') await mkdir(join(folder, 'image_feat.npy'));
  else if (image) await writeFile(join(folder, 'image_feat.npy'), image);
  const text = spec.text === undefined ? npyBytes({ descr: '<f8', shape: [N_ITEMS, 2], values: Float64Array.from(features(N_ITEMS, 2)) }) : spec.text;
  if (text) await writeFile(join(folder, 'text_feat.npy'), text);
  const categories = spec.categories === undefined ? 'item,category\n0,0\n1,1\n2,0\n3,1\n4,2\n' : spec.categories;
  if (categories !== null) await writeFile(join(folder, 'item_category.csv'), categories);
  return folder;
}

async function expectRejected(
  run: () => Promise<unknown>,
  patterns: RegExp[],
  leftInRoot: string[] = [],
  errorType: abstract new (...args: never[]) => UserError = DatasetError,
): Promise<void> {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(errorType);
  for (const pattern of patterns) expect((error as UserError).message).toMatch(pattern);
  expect(await readdir(root)).toEqual(leftInRoot);
}

const importFolder = (options: Partial<MmrecImportOptions> = {}) => () => importMmrec({ dir: folder, root, ...options });
const withRow = (line: number, row: string): string[] => ROWS.map((r, k) => (k + 2 === line ? row : r));

describe('validation of bad input', () => {
  it('accepts the unmodified fixture (the cases below differ from it in one thing each)', async () => {
    await writeFolder();
    const result = await importMmrec({ dir: folder, root });
    expect(result.manifest.counts).toMatchObject({ users: 3, items: 5, interactions: 9 });
    expect(await readdir(root)).toEqual([result.id]);
  });

  it('rejects a missing dataset folder', async () => {
    await expectRejected(importFolder({ dir: join(work, 'nowhere') }), [/Missing MMRec dataset folder/, /nowhere/, /no such file/]);
  });

  it('rejects a folder without an .inter file', async () => {
    await mkdir(folder);
    await expectRejected(importFolder(), [/Missing MMRec interaction file/, /<name>\.inter/]);
  });

  it('rejects a named .inter file that does not exist', async () => {
    await writeFolder();
    await expectRejected(importFolder({ name: 'baby' }), [/Missing MMRec interaction file \(\.inter\)/, /baby\.inter/]);
  });

  it('rejects an unreadable feature file (a directory in its place)', async () => {
    await writeFolder({ image: 'directory' });
    await expectRejected(importFolder(), [/Unreadable image feature file/, /image_feat\.npy/, /found a directory/]);
  });

  it('rejects a comma-separated .inter file (wrong delimiter)', async () => {
    await writeFolder({ header: HEADER.replaceAll('\t', ','), rows: ROWS.map((r) => r.replaceAll('\t', ',')) });
    await expectRejected(importFolder(), [/Wrong delimiter/, /ds\.inter, row 1/, /expected tab-separated/, /found commas/]);
  });

  it('rejects a header without userID', async () => {
    await writeFolder({ header: 'user\titemID\trating\ttimestamp\tx_label' });
    await expectRejected(importFolder(), [/Missing column 'userID'/, /ds\.inter, row 1, field 'userID'/]);
  });

  it('rejects a line with the wrong number of fields', async () => {
    await writeFolder({ rows: withRow(4, '0\t2\t3') });
    await expectRejected(importFolder(), [/Wrong number of fields/, /row 4/, /expected 5 tab-separated fields/, /found 3 fields/]);
  });

  it('rejects a non-integer id', async () => {
    await writeFolder({ rows: withRow(3, '0\t1.5\t4\t2\t0') });
    await expectRejected(importFolder(), [/Non-integer id in 'itemID'/, /row 3, field 'itemID'/, /found '1\.5'/]);
  });

  it('rejects a negative id', async () => {
    await writeFolder({ rows: withRow(2, '-1\t0\t5\t1\t0') });
    await expectRejected(importFolder(), [/Negative id in 'userID'/, /row 2, field 'userID'/, /found -1/]);
  });

  it('rejects ids with a gap', async () => {
    await writeFolder({ rows: ROWS.map((r) => r.replace(/^(\d)\t3\t/, '$1\t5\t')) });
    await expectRejected(importFolder(), [/gap/, /no row has itemID 3/, /field 'itemID'/, /contiguous ids 0\.\.5/]);
  });

  it('rejects item ids out of the range of the items table', async () => {
    const inter = new Table({ user: vectorFromArray([0, 0, 1], new Int32()), item: vectorFromArray([0, 9, 1], new Int32()) });
    const items = new Table({ item: vectorFromArray([0, 1, 2], new Int32()) });
    await writeFile(join(work, 'i.parquet'), encodeParquet(inter));
    await writeFile(join(work, 'items.parquet'), encodeParquet(items));
    await expectRejected(() => importParquet({ interactions: join(work, 'i.parquet'), items: join(work, 'items.parquet'), root }), [
      /Id out of range in 'item'/,
      /i\.parquet, row 1, field 'item'/,
      /expected an integer in \[0, 3\)/,
      /found 9/,
    ]);
  });

  it('rejects duplicate (user, item) pairs', async () => {
    await writeFolder({ rows: [...ROWS, '1\t2\t5\t10\t0'] });
    await expectRejected(importFolder(), [/Duplicate \(user, item\) pair \(1, 2\), first seen at row 6/, /row 11/]);
  });

  it('rejects split labels outside 0/1/2', async () => {
    await writeFolder({ rows: withRow(7, '1\t3\t1\t6\t3') });
    await expectRejected(importFolder(), [/Split label outside 0\/1\/2/, /row 7, field 'x_label'/, /found 3/]);
  });

  it('rejects a user with validation/test rows but no training rows', async () => {
    await writeFolder({ rows: [...ROWS, '3\t4\t5\t10\t2'] });
    await expectRejected(importFolder(), [/User 3 has validation\/test rows but no training rows/, /row 11/]);
  });

  it('rejects a feature file whose row count is not the item count', async () => {
    await writeFolder({ image: npyBytes({ descr: '<f4', shape: [4, 3], values: features(4, 3) }) });
    await expectRejected(importFolder(), [/Feature row count does not equal the item count/, /image_feat\.npy/, /expected 5 rows/, /found 4 rows/]);
  });

  it('rejects a .npy file of the wrong dtype', async () => {
    await writeFolder({ image: npyBytes({ descr: '<i8', shape: [N_ITEMS, 3], values: new BigInt64Array(15) }) });
    await expectRejected(importFolder(), [/Wrong dtype/, /image_feat\.npy, field 'descr'/, /found '<i8'/]);
  });

  it('rejects a .npy file of the wrong shape', async () => {
    await writeFolder({ text: npyBytes({ descr: '<f4', shape: [10], values: features(10, 1) }) });
    await expectRejected(importFolder(), [/Wrong shape/, /text_feat\.npy, field 'shape'/, /expected \(n_items, dim\)/, /found \(10\)/]);
  });

  it('rejects a Fortran-order .npy matrix', async () => {
    await writeFolder({ image: npyBytes({ descr: '<f4', shape: [N_ITEMS, 3], values: features(N_ITEMS, 3), fortranOrder: true }) });
    await expectRejected(importFolder(), [/Wrong memory order/, /field 'fortran_order'/, /expected C order/]);
  });

  it('rejects a truncated .npy file', async () => {
    const bytes = npyBytes({ descr: '<f4', shape: [N_ITEMS, 3], values: features(N_ITEMS, 3) });
    await writeFolder({ image: bytes.subarray(0, bytes.length - 6) });
    await expectRejected(importFolder(), [/Truncated \.npy file/, /image_feat\.npy/, /expected 188 bytes for shape \(5, 3\)/, /found 182 bytes/]);
  });

  it('rejects a file that is not .npy at all', async () => {
    await writeFolder({ text: new TextEncoder().encode('0.1,0.2\n0.3,0.4\n') });
    await expectRejected(importFolder(), [/Not a \.npy file/, /text_feat\.npy/]);
  });

  it('rejects NaN in float32 features, naming item row and column', async () => {
    const values = features(N_ITEMS, 3);
    values[2 * 3 + 1] = NaN;
    await writeFolder({ image: npyBytes({ descr: '<f4', shape: [N_ITEMS, 3], values }) });
    await expectRejected(importFolder(), [/Non-finite feature value/, /image_feat\.npy, row 2, field 'column 1'/, /found NaN/]);
  });

  it('rejects Inf in float64 features', async () => {
    const values = Float64Array.from(features(N_ITEMS, 2));
    values[4 * 2] = -Infinity;
    await writeFolder({ text: npyBytes({ descr: '<f8', shape: [N_ITEMS, 2], values }) });
    await expectRejected(importFolder(), [/Non-finite feature value/, /text_feat\.npy, row 4, field 'column 0'/, /found -Infinity/]);
  });

  it('rejects categories missing for some items', async () => {
    await writeFolder({ categories: 'item,category\n0,0\n1,1\n2,0\n3,1\n' });
    await expectRejected(importFolder(), [/Categories missing for some items: item 4 has none/, /item_category\.csv/, /1 items without one/]);
  });

  it('rejects a negative category', async () => {
    await writeFolder({ categories: 'item,category\n0,0\n1,1\n2,-2\n3,1\n4,2\n' });
    await expectRejected(importFolder(), [/Category out of range/, /item_category\.csv, row 4, field 'category'/, /found '-2'/]);
  });

  it('rejects a category file naming an item that does not exist', async () => {
    await writeFolder({ categories: 'item,category\n0,0\n1,1\n2,0\n3,1\n4,2\n7,1\n' });
    await expectRejected(importFolder(), [/Item id out of range in category file/, /row 7, field 'item'/, /\[0, 5\)/]);
  });

  it('rejects an empty dataset', async () => {
    await writeFolder({ rows: [] });
    await expectRejected(importFolder(), [/Dataset is empty/, /ds\.inter/, /found 0 rows/]);
  });

  it('rejects feature lists of different lengths across Parquet rows', async () => {
    const inter = new Table({ user: vectorFromArray([0, 0, 1], new Int32()), item: vectorFromArray([0, 1, 2], new Int32()) });
    const items = new Table({
      item: vectorFromArray([0, 1, 2], new Int32()),
      image: listColumn([
        [1, 2, 3],
        [4, 5, 6],
        [7, 8],
      ]),
    });
    await writeFile(join(work, 'i.parquet'), encodeParquet(inter));
    await writeFile(join(work, 'items.parquet'), encodeParquet(items));
    await expectRejected(() => importParquet({ interactions: join(work, 'i.parquet'), items: join(work, 'items.parquet'), root }), [
      /Mismatched feature dims across rows of column 'image'/,
      /items\.parquet, row 2, field 'image'/,
      /expected 3 values/,
      /found 2 values/,
    ]);
  });

  it('rejects a file that is not Parquet', async () => {
    await writeFile(join(work, 'i.parquet'), 'user,item\n0,0\n');
    await expectRejected(() => importParquet({ interactions: join(work, 'i.parquet'), root }), [/Not a readable Parquet file/, /i\.parquet/]);
  });

  it('rejects a missing column named by an option', async () => {
    const inter = new Table({ user: vectorFromArray([0, 1], new Int32()), item: vectorFromArray([0, 1], new Int32()) });
    await writeFile(join(work, 'i.parquet'), encodeParquet(inter));
    await expectRejected(() => importParquet({ interactions: join(work, 'i.parquet'), root, columns: { rating: 'stars' } }), [
      /Missing column 'stars'/,
      /i\.parquet, field 'stars'/,
      /found columns user, item/,
    ]);
  });

  it('rejects NaN in an in-memory dataset before writing anything', async () => {
    const input: DatasetInput = {
      nUsers: 1,
      nItems: 2,
      interactions: {
        users: Int32Array.from([0, 0]),
        items: Int32Array.from([0, 1]),
        splits: Int8Array.from([0, 2]),
        ratings: Float32Array.from([1, 1]),
        timestamps: new BigInt64Array(2),
      },
      categories: null,
      features: { text: { rows: 2, dim: 2, data: Float32Array.from([0, 1, NaN, 1]) } },
      source: { kind: 'synthetic', description: 'bad' },
    };
    await expectRejected(() => writeSnapshot(input, { root }), [/Non-finite feature value/, /text features \(in memory\), row 1, field 'column 0'/]);
  });

  it('leaves a file where the snapshot directory belongs alone, and writes nothing', async () => {
    await writeFolder();
    const { id } = await importMmrec({ dir: folder, root: join(work, 'probe') });
    await writeFile(join(root, id), 'a file where the snapshot directory should go');
    await expectRejected(importFolder(), [/Cannot move the snapshot into place/, new RegExp(id), /move the file away/], [id], EnvironmentError);
  });
});
