import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tableFromArrays } from 'apache-arrow';
import { DatasetError, SplitCode } from '@sgfd/contracts';
import { exportMmrec, exportSnapshotToMmrec } from './mmrec-export';
import { importMmrec, readMmrecFolder } from './mmrec-import';
import { readNpyMatrix } from './npy';
import { encodeParquet } from './parquet-io';
import { loadSnapshot } from './snapshot-load';
import { writeSnapshot } from './snapshot-write';
import { splitSizes } from './split';
import { generateSynthetic } from './synthetic';
import { writeMmrecFolder } from './test-support/mmrec-folder';
import { npyBytes } from './test-support/npy-bytes';

let work: string;
let root: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-mmrec-'));
  root = join(work, 'snapshots');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const small = (): ReturnType<typeof generateSynthetic> =>
  generateSynthetic({
    preset: 'tiny',
    seed: 4,
    users: 60,
    items: 60,
    categories: 4,
    interactionsPerUser: 12,
    imageDim: 48,
    textDim: 16,
  });

describe('MMRec export and import', () => {
  it('round-trips a dataset exactly: export then import gives the snapshot of the original data', async () => {
    const data = small();
    const original = await writeSnapshot(data, { root });
    const { dir, files } = await exportMmrec(data, { out: join(work, 'small') });
    expect(files).toEqual(['small.inter', 'image_feat.npy', 'text_feat.npy', 'item_category.npy']);
    expect((await readdir(work)).sort()).toEqual(['small', 'snapshots']);
    const header = (await readFile(join(dir, 'small.inter'), 'utf8')).split('\n')[0];
    expect(header).toBe('userID\titemID\trating\ttimestamp\tx_label');

    const imported = await importMmrec({ dir, root });
    expect(imported.id).toBe(original.id);
    expect(imported.created).toBe(false);
    const again = await importMmrec({ dir, root: join(work, 'other-root') });
    expect(again.id).toBe(original.id);
    expect(again.created).toBe(true);
    expect(again.manifest.source).toMatchObject({ kind: 'mmrec', splitGiven: true });
  });

  it('exports a snapshot directory, with item_category.npy as int64', async () => {
    const { dir: snapshot } = await writeSnapshot(small(), { root });
    const { dir } = await exportSnapshotToMmrec(snapshot, { out: join(work, 'exported'), name: 'baby' });
    expect((await readdir(dir)).sort()).toEqual(['baby.inter', 'image_feat.npy', 'item_category.npy', 'text_feat.npy']);
    const bytes = await readFile(join(dir, 'item_category.npy'));
    expect(bytes.subarray(10, 80).toString('latin1')).toContain("'descr': '<i8'");
    await expect(exportSnapshotToMmrec(snapshot, { out: dir })).rejects.toThrow(/already exists/);
  });

  it('splits per user with the MMRec rule when the .inter file has no x_label, seeded', async () => {
    const dir = join(work, 'nosplit');
    await mkdir(dir);
    const lines = ['userID\titemID\trating\ttimestamp'];
    const perUser = [12, 10, 4, 7];
    perUser.forEach((n, u) => {
      for (let i = 0; i < n; i++) lines.push(`${u}\t${(i * 5 + u) % 12}\t5\t${1000 + i}`);
    });
    await writeFile(join(dir, 'x.inter'), `${lines.join('\n')}\n`);
    const result = await importMmrec({ dir, root, splitSeed: 9 });
    const data = await loadSnapshot(result.dir);
    perUser.forEach((n, u) => {
      const count = (code: 'train' | 'valid' | 'test'): number => data.splits[code].users.filter((x) => x === u).length;
      expect({ train: count('train'), valid: count('valid'), test: count('test') }).toEqual(splitSizes(n));
    });
    expect(result.manifest.source).toMatchObject({ splitGiven: false });
    expect(result.manifest.categories).toBeNull();
    expect(result.manifest.modalities).toEqual([]);
    expect((await importMmrec({ dir, root, splitSeed: 9 })).id).toBe(result.id);
    expect((await importMmrec({ dir, root, splitSeed: 10 })).id).not.toBe(result.id);
  });

  it('reads float64 features and .npy headers of versions 1, 2 and 3 to the same float32 values', async () => {
    const values = Float64Array.from({ length: 3 * 4 }, (_, k) => k / 7 - 0.5);
    const expected = Float32Array.from(values);
    for (const [version, descr, body] of [
      [1, '<f8', values],
      [2, '<f4', expected],
      [3, '<f8', values],
    ] as const) {
      const path = join(work, `v${version}.npy`);
      await writeFile(path, npyBytes({ descr, shape: [3, 4], values: body, version }));
      const m = await readNpyMatrix(path, 'test features');
      expect([m.rows, m.dim]).toEqual([3, 4]);
      expect(Array.from(m.data)).toEqual(Array.from(expected));
    }
  });

  it('reads matrices larger than one read chunk correctly, float32 and float64', async () => {
    const rows = 700;
    const dim = 2048;
    const f64 = Float64Array.from({ length: rows * dim }, (_, k) => Math.sin(k));
    const f32 = Float32Array.from(f64);
    await writeFile(join(work, 'big32.npy'), npyBytes({ descr: '<f4', shape: [rows, dim], values: f32 }));
    await writeFile(join(work, 'big64.npy'), npyBytes({ descr: '<f8', shape: [rows, dim], values: f64 }));
    for (const file of ['big32.npy', 'big64.npy']) {
      const m = await readNpyMatrix(join(work, file), 'features');
      expect(
        Buffer.compare(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), Buffer.from(f32.buffer)),
      ).toBe(0);
    }
  });

  it('accepts a folder with only text features and categories from a CSV or Parquet item,category table', async () => {
    const data = small();
    const { dir } = await exportMmrec(
      { ...data, features: { text: data.features.text }, categories: null },
      { out: join(work, 'textonly') },
    );
    const order = Array.from(data.categories.keys()).reverse();
    const csv = ['item,category', ...order.map((i) => `${i},${data.categories[i]}`)].join('\n');
    await writeFile(join(dir, 'item_category.csv'), `${csv}\n`);
    const fromCsv = await importMmrec({ dir, root });
    expect(fromCsv.manifest.modalities.map((m) => m.name)).toEqual(['text']);
    expect(fromCsv.manifest.categories).toBe(4);
    expect(Array.from((await loadSnapshot(fromCsv.dir)).categories!)).toEqual(Array.from(data.categories));

    const parquetPath = join(work, 'cats.parquet');
    const table = tableFromArrays({
      item: Int32Array.from(order),
      category: BigInt64Array.from(order, (i) => BigInt(data.categories[i])),
    });
    await writeFile(parquetPath, encodeParquet(table));
    const fromParquet = await importMmrec({ dir, root, categories: parquetPath });
    expect(fromParquet.id).toBe(fromCsv.id);
  });

  it('imports without categories when none are given, recording categories as null', async () => {
    const data = small();
    const { dir } = await exportMmrec({ ...data, categories: null }, { out: join(work, 'nocats') });
    const result = await importMmrec({ dir, root });
    expect(result.manifest.categories).toBeNull();
    const loaded = await loadSnapshot(result.dir);
    expect(loaded.categories).toBeNull();
    expect(loaded.splits.train.users.length).toBe(
      Array.from(data.interactions.splits).filter((s) => s === SplitCode.train).length,
    );
  });

  it('names the input rows of the first repeated pair in file order, though it finds repeats sorted', async () => {
    // (2, 4) repeats first (line 5, first on line 3); (0, 1), earlier in sorted order, repeats only later.
    const rows = ['0\t1', '2\t4', '1\t2', '2\t4', '0\t1', '2\t4', '1\t3', '0\t0'];
    const dir = await writeMmrecFolder(join(work, 'repeats'), { header: 'userID\titemID', rows });
    const error = await readMmrecFolder({ dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).message).toMatch(/^Duplicate \(user, item\) pair \(2, 4\), first seen at row 3 /);
    expect((error as DatasetError).location).toMatchObject({ file: join(dir, 'ds.inter'), row: 5 });
  });
});
