import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Float32, Int32, Table, vectorFromArray } from 'apache-arrow';
import { importParquet } from './parquet-import';
import { encodeParquet } from './parquet-io';
import { loadSnapshot } from './snapshot-load';
import { writeSnapshot } from './snapshot-write';
import { generateSynthetic } from './synthetic';
import { listColumn } from './test-support/arrow';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-parquet-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const data = generateSynthetic({
  preset: 'tiny',
  seed: 8,
  users: 50,
  items: 40,
  categories: 4,
  interactionsPerUser: 10,
  imageDim: 12,
  textDim: 6,
});

function rowsOf(m: { rows: number; dim: number; data: Float32Array }, order: number[]): number[][] {
  return order.map((i) => Array.from(m.data.subarray(i * m.dim, (i + 1) * m.dim)));
}

describe('generic Parquet import', () => {
  it('imports interaction and item tables with list<float> features under custom column names', async () => {
    const c = data.interactions;
    const interactions = new Table({
      uid: vectorFromArray(Array.from(c.users), new Int32()),
      iid: vectorFromArray(Array.from(c.items, BigInt)),
      stars: vectorFromArray(Array.from(c.ratings), new Float32()),
      ts: vectorFromArray(Array.from(c.timestamps)),
      fold: vectorFromArray(Array.from(c.splits), new Int32()),
    });
    const order = Array.from({ length: data.nItems }, (_, i) => (i * 7) % data.nItems); // items in another order
    const items = new Table({
      item_id: vectorFromArray(order, new Int32()),
      cat: vectorFromArray(
        order.map((i) => data.categories[i]),
        new Int32(),
      ),
      clip: listColumn(rowsOf(data.features.image!, order)),
      sbert: listColumn(rowsOf(data.features.text!, order), true),
    });
    await writeFile(join(work, 'inter.parquet'), encodeParquet(interactions));
    await writeFile(join(work, 'items.parquet'), encodeParquet(items));
    const result = await importParquet({
      interactions: join(work, 'inter.parquet'),
      items: join(work, 'items.parquet'),
      root: join(work, 'snap'),
      columns: {
        user: 'uid',
        item: 'iid',
        rating: 'stars',
        timestamp: 'ts',
        split: 'fold',
        itemId: 'item_id',
        category: 'cat',
        features: { image: 'clip', text: 'sbert' },
      },
    });
    // Same content as the generated dataset written directly: lossless.
    expect(result.id).toBe((await writeSnapshot(data, { root: join(work, 'direct') })).id);
    expect(result.manifest.source).toMatchObject({ kind: 'parquet', splitGiven: true });
  });

  it('uses default column names, splits when no split column exists, and needs no items table', async () => {
    const c = data.interactions;
    const interactions = new Table({
      user: vectorFromArray(Array.from(c.users), new Int32()),
      item: vectorFromArray(Array.from(c.items), new Int32()),
    });
    await writeFile(join(work, 'inter.parquet'), encodeParquet(interactions));
    const result = await importParquet({ interactions: join(work, 'inter.parquet'), root: join(work, 'snap') });
    expect(result.manifest.modalities).toEqual([]);
    expect(result.manifest.categories).toBeNull();
    expect(result.manifest.counts.users).toBe(data.nUsers);
    const loaded = await loadSnapshot(result.dir);
    expect(loaded.splits.train.users.length + loaded.splits.valid.users.length + loaded.splits.test.users.length).toBe(
      c.users.length,
    );
    expect(loaded.splits.valid.users.length).toBeGreaterThan(0);
    expect(result.manifest.counts.train).toBeGreaterThan(0.75 * c.users.length);
  });
});
