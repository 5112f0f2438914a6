import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { tableFromIPC } from 'apache-arrow';
import { DatasetError, DatasetManifestSchema } from '@sgfd/contracts';
import type { DatasetInput } from './dataset-input';
import { loadSnapshot, readSnapshotInput } from './snapshot-load';
import { writeSnapshot } from './snapshot-write';

/** 3 users x 4 items, 2 categories, both modalities; rows deliberately not in (user, item) order. */
function smallDataset(): DatasetInput {
  const rows: [number, number, number, number, bigint][] = [
    [2, 3, 0, 5, 300n],
    [0, 1, 0, 4, 100n],
    [0, 0, 0, 3, 101n],
    [1, 2, 0, 1, 200n],
    [0, 2, 1, 2, 102n],
    [1, 0, 2, 5, 201n],
    [2, 1, 0, 4, 301n],
    [2, 0, 2, 3, 302n],
  ];
  return {
    nUsers: 3,
    nItems: 4,
    interactions: {
      users: Int32Array.from(rows.map((r) => r[0])),
      items: Int32Array.from(rows.map((r) => r[1])),
      splits: Int8Array.from(rows.map((r) => r[2])),
      ratings: Float32Array.from(rows.map((r) => r[3])),
      timestamps: BigInt64Array.from(rows.map((r) => r[4])),
    },
    categories: Int32Array.from([0, 1, 1, 0]),
    features: {
      image: { rows: 4, dim: 3, data: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) },
      text: { rows: 4, dim: 2, data: Float32Array.from([0.5, -0.5, 1, 0, 0, 1, -1, 0.25]) },
    },
    source: { kind: 'synthetic', description: 'hand-made 3x4 test set' },
  };
}

function reversedRows(input: DatasetInput): DatasetInput {
  const c = input.interactions;
  return {
    ...input,
    interactions: {
      users: c.users.slice().reverse(),
      items: c.items.slice().reverse(),
      splits: c.splits.slice().reverse(),
      ratings: c.ratings.slice().reverse(),
      timestamps: c.timestamps.slice().reverse(),
    },
  };
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sgfd-snapshot-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dataset snapshots', () => {
  it('writes a snapshot whose loaded typed arrays equal the input', async () => {
    const { dir, id, manifest, created } = await writeSnapshot(smallDataset(), { root });
    expect(created).toBe(true);
    expect(dir).toBe(join(root, id));
    expect(DatasetManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')))).toEqual(
      manifest,
    );
    expect(manifest.counts).toEqual({ users: 3, items: 4, interactions: 8, train: 5, valid: 1, test: 2 });
    expect(manifest.categories).toBe(2);
    expect(manifest.modalities).toEqual([
      { name: 'image', dim: 3, file: 'image.arrow' },
      { name: 'text', dim: 2, file: 'text.arrow' },
    ]);
    expect(manifest.files.map((f) => f.path).sort()).toEqual([
      'image.arrow',
      'interactions.parquet',
      'items.parquet',
      'text.arrow',
    ]);
    for (const f of manifest.files) expect((await stat(join(dir, f.path))).size).toBe(f.bytes);

    const data = await loadSnapshot(dir);
    expect(data.nUsers).toBe(3);
    expect(data.nItems).toBe(4);
    expect(data.nCategories).toBe(2);
    expect(Array.from(data.categories!)).toEqual([0, 1, 1, 0]);
    expect(data.features.image!.dim).toBe(3);
    expect(Array.from(data.features.image!.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(data.features.text!.data)).toEqual([0.5, -0.5, 1, 0, 0, 1, -1, 0.25]);
    // Canonical order: by user, then item.
    expect(Array.from(data.splits.train.users)).toEqual([0, 0, 1, 2, 2]);
    expect(Array.from(data.splits.train.items)).toEqual([0, 1, 2, 1, 3]);
    expect(Array.from(data.splits.valid.users)).toEqual([0]);
    expect(Array.from(data.splits.valid.items)).toEqual([2]);
    expect(Array.from(data.splits.test.users)).toEqual([1, 2]);
    expect(Array.from(data.splits.test.items)).toEqual([0, 0]);
    expect(Array.from(data.trainCsr.indptr)).toEqual([0, 2, 3, 5]);
    expect(Array.from(data.trainCsr.indices)).toEqual([0, 1, 2, 1, 3]);
    expect(data.features.image!.data).toBeInstanceOf(Float32Array);
  });

  it('writes Parquet files that an independent reader (hyparquet) reads back with the declared types', async () => {
    const { dir } = await writeSnapshot(smallDataset(), { root });
    const interactions = arrayBufferOf(await readFile(join(dir, 'interactions.parquet')));
    const schema = parquetSchema(parquetMetadata(interactions));
    const types = Object.fromEntries(
      schema.children.map((c) => {
        const logical = c.element.logical_type;
        return [
          c.element.name,
          [c.element.type, logical?.type, logical?.type === 'INTEGER' ? logical.bitWidth : undefined],
        ];
      }),
    );
    expect(types).toEqual({
      user: ['INT32', undefined, undefined],
      item: ['INT32', undefined, undefined],
      split: ['INT32', 'INTEGER', 8],
      rating: ['FLOAT', undefined, undefined],
      timestamp: ['INT64', undefined, undefined],
    });
    const rows = await parquetReadObjects({ file: interactions });
    expect(rows).toHaveLength(8);
    expect(rows[0]).toEqual({ user: 0, item: 0, split: 0, rating: 3, timestamp: 101n });
    expect(rows.find((r) => r.user === 2 && r.item === 3)).toEqual({
      user: 2,
      item: 3,
      split: 0,
      rating: 5,
      timestamp: 300n,
    });

    const items = await parquetReadObjects({ file: arrayBufferOf(await readFile(join(dir, 'items.parquet'))) });
    expect(items).toEqual([
      { item: 0, category: 0 },
      { item: 1, category: 1 },
      { item: 2, category: 1 },
      { item: 3, category: 0 },
    ]);
  });

  it('writes feature files as Arrow IPC with FixedSizeList<float32> rows', async () => {
    const { dir } = await writeSnapshot(smallDataset(), { root });
    const table = tableFromIPC(await readFile(join(dir, 'image.arrow')));
    expect(String(table.schema.fields.find((f) => f.name === 'feature')!.type)).toBe('FixedSizeList[3]<Float32>');
    expect(table.numRows).toBe(4);
    expect(Array.from(table.getChild('feature')!.get(2)!)).toEqual([6, 7, 8]);
    expect(Array.from(table.getChild('item')!.toArray())).toEqual([0, 1, 2, 3]);
  });

  it('gives the same data the same id and does no work the second time, whatever the row order', async () => {
    const first = await writeSnapshot(smallDataset(), { root });
    const before = await stat(join(first.dir, 'manifest.json'));
    const second = await writeSnapshot(reversedRows(smallDataset()), { root });
    expect(second.id).toBe(first.id);
    expect(second.created).toBe(false);
    expect((await stat(join(first.dir, 'manifest.json'))).mtimeMs).toBe(before.mtimeMs);
    expect(await readdir(root)).toEqual([first.id]);

    const changed = smallDataset();
    changed.features.text!.data[3] = 0.125;
    const third = await writeSnapshot(changed, { root });
    expect(third.id).not.toBe(first.id);
    expect((await readdir(root)).sort()).toEqual([first.id, third.id].sort());
  });

  it('writes items.parquet with null categories and manifest categories null when the source has none', async () => {
    const input = { ...smallDataset(), categories: null, features: { text: smallDataset().features.text! } };
    const { dir, manifest } = await writeSnapshot(input, { root });
    expect(manifest.categories).toBeNull();
    expect(manifest.modalities.map((m) => m.name)).toEqual(['text']);
    const items = await parquetReadObjects({ file: arrayBufferOf(await readFile(join(dir, 'items.parquet'))) });
    expect(items[0]).toEqual({ item: 0, category: null });
    const data = await loadSnapshot(dir);
    expect(data.categories).toBeNull();
    expect(data.nCategories).toBeNull();
    expect(data.features.image).toBeUndefined();
  });

  it('refuses to load a snapshot whose files no longer match the manifest checksums', async () => {
    const { dir } = await writeSnapshot(smallDataset(), { root });
    const path = join(dir, 'text.arrow');
    const bytes = await readFile(path);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(path, bytes);
    await expect(loadSnapshot(dir)).rejects.toThrow(DatasetError);
    await expect(loadSnapshot(dir)).rejects.toThrow(/text\.arrow.*sha256/);
  });

  it('round-trips every column through readSnapshotInput', async () => {
    const { dir } = await writeSnapshot(smallDataset(), { root });
    const back = await readSnapshotInput(dir);
    expect(Array.from(back.interactions.ratings)).toEqual([3, 4, 2, 5, 1, 3, 4, 5]);
    expect(Array.from(back.interactions.timestamps)).toEqual([101n, 100n, 102n, 201n, 200n, 302n, 301n, 300n]);
    expect(back.source).toEqual({ kind: 'synthetic', description: 'hand-made 3x4 test set' });
  });

  it('writes interactions.parquet a row group at a time: several groups, read back identical, same id', async () => {
    const whole = await writeSnapshot(smallDataset(), { root: join(root, 'whole') });
    const batched = await writeSnapshot(reversedRows(smallDataset()), { root: join(root, 'batched'), rowGroupRows: 3 });
    expect(batched.id).toBe(whole.id);
    const file = async (dir: string) => arrayBufferOf(await readFile(join(dir, 'interactions.parquet')));
    const groups = parquetMetadata(await file(batched.dir)).row_groups.map((g) => Number(g.num_rows));
    expect(groups).toEqual([3, 3, 2]);
    expect(parquetMetadata(await file(whole.dir)).row_groups).toHaveLength(1);
    const rows = await parquetReadObjects({ file: await file(batched.dir) });
    expect(rows).toEqual(await parquetReadObjects({ file: await file(whole.dir) }));
    expect(rows.map((r) => [r.user, r.item])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 2],
      [2, 0],
      [2, 1],
      [2, 3],
    ]);
    const [a, b] = [await loadSnapshot(whole.dir), await loadSnapshot(batched.dir)];
    for (const split of ['train', 'valid', 'test'] as const) {
      expect(Array.from(b.splits[split].users)).toEqual(Array.from(a.splits[split].users));
      expect(Array.from(b.splits[split].items)).toEqual(Array.from(a.splits[split].items));
    }
  });

  it('keeps the id that earlier versions gave the same content, so their snapshots are still found', async () => {
    const { id } = await writeSnapshot(smallDataset(), { root, rowGroupRows: 2 });
    // Computed by the writer that sorted a whole copy of the columns and wrote one row group.
    expect(id).toBe('29dfe816894a731d89d216b0b119bb287f4fd4fa68ce07fb601cd4cc746b0be6');
  });
});
