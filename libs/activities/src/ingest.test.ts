import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Field, Float32, Int32, List, Table, vectorFromArray } from 'apache-arrow';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeParquet, exportSnapshotToMmrec, loadSnapshot, readManifest, readSnapshotInput } from '@sgfd/data';
import { createIngestActivities } from './ingest';
import { snapshotDir } from './snapshot-artifact';
import { SMALL_DATASET, activityEnv, tempStore, type TempStore } from './test-support/fixtures';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('ingestDataset', () => {
  let t: TempStore;
  beforeEach(async () => {
    t = await tempStore();
  });
  afterEach(async () => {
    await t.remove();
  });

  it('stores a synthetic dataset as a snapshot artifact once; the same source again is reused', async () => {
    const { ingestDataset } = createIngestActivities({ store: t.store });
    const input = { runId: 'r1', dataset: SMALL_DATASET, codeVersion: 'test' };
    const first = await activityEnv().run(ingestDataset, input);
    expect(first.reused).toBe(false);
    expect(first.snapshot.kind).toBe('snapshot');
    expect(first.counts.users).toBe(120);
    expect(first.categories).toBe(5);
    expect(first.modalities).toEqual(['image', 'text']);
    const dir = await snapshotDir(t.store, first.snapshot);
    expect((await readManifest(dir)).id).toBe(first.datasetId);
    const loaded = await loadSnapshot(dir);
    expect(loaded.features.image?.dim).toBe(48);

    const second = await activityEnv().run(ingestDataset, { ...input, runId: 'r2' });
    expect(second).toEqual({ ...first, reused: true });
    // Another code version is another artifact (same data, so the same dataset id).
    const other = await activityEnv().run(ingestDataset, { ...input, codeVersion: 'test-2' });
    expect(other.reused).toBe(false);
    expect(other.datasetId).toBe(first.datasetId);
    expect(other.snapshot.uri).not.toBe(first.snapshot.uri);
  });

  it('ingests an MMRec folder, and a re-export of the same data to another folder gets the same dataset id', async () => {
    const { ingestDataset } = createIngestActivities({ store: t.store });
    const synthetic = await activityEnv().run(ingestDataset, {
      runId: 'r',
      dataset: SMALL_DATASET,
      codeVersion: 'test',
    });
    const exported = await exportSnapshotToMmrec(await snapshotDir(t.store, synthetic.snapshot), {
      out: join(t.root, 'export', 'small'),
    });
    const mmrec = await activityEnv().run(ingestDataset, {
      runId: 'r',
      dataset: { kind: 'mmrec', dir: exported.dir },
      codeVersion: 'test',
    });
    expect(mmrec.reused).toBe(false);
    expect(mmrec.datasetId).toBe(synthetic.datasetId);
  });

  it('ingests a Parquet folder (interactions.parquet, items.parquet with image/text list columns) to the same dataset', async () => {
    const { ingestDataset } = createIngestActivities({ store: t.store });
    const synthetic = await activityEnv().run(ingestDataset, {
      runId: 'r',
      dataset: SMALL_DATASET,
      codeVersion: 'test',
    });
    const data = await loadSnapshot(await snapshotDir(t.store, synthetic.snapshot));
    const input = await readSnapshotInput(await snapshotDir(t.store, synthetic.snapshot));
    const rows = (m: { rows: number; dim: number; data: Float32Array }) =>
      Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.dim, (i + 1) * m.dim)));
    const list = (values: number[][]) => vectorFromArray(values, new List(new Field('element', new Float32(), true)));
    const dir = join(t.root, 'parquet-source');
    await mkdir(dir);
    const c = input.interactions;
    const interactions = new Table({
      user: vectorFromArray(Array.from(c.users), new Int32()),
      item: vectorFromArray(Array.from(c.items), new Int32()),
      split: vectorFromArray(Array.from(c.splits), new Int32()),
      rating: vectorFromArray(Array.from(c.ratings), new Float32()),
      timestamp: vectorFromArray(Array.from(c.timestamps)),
    });
    const items = new Table({
      item: vectorFromArray(
        Array.from({ length: data.nItems }, (_, i) => i),
        new Int32(),
      ),
      category: vectorFromArray(Array.from(data.categories!), new Int32()),
      image: list(rows(data.features.image!)),
      text: list(rows(data.features.text!)),
    });
    await writeFile(join(dir, 'interactions.parquet'), encodeParquet(interactions));
    await writeFile(join(dir, 'items.parquet'), encodeParquet(items));
    const parquet = await activityEnv().run(ingestDataset, {
      runId: 'r',
      dataset: { kind: 'parquet', dir },
      codeVersion: 'test',
    });
    expect(parquet.reused).toBe(false);
    expect(parquet.modalities).toEqual(['image', 'text']);
    expect(parquet.datasetId).toBe(synthetic.datasetId);
  });

  it('fails a nonexistent dataset path at once, non-retryable, naming the path, leaving nothing in the store', async () => {
    const { ingestDataset } = createIngestActivities({ store: t.store });
    const missing = join(t.root, 'no-such-snapshot');
    const failure = await failureOf(
      activityEnv().run(ingestDataset, {
        runId: 'r',
        dataset: { kind: 'snapshot', path: missing },
        codeVersion: 'test',
      }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DatasetError');
    expect(failure.message).toContain(missing);
    expect(await t.store.list()).toEqual([]);
    expect(await t.leftovers()).toEqual([]);
  });

  it('fails a corrupt feature file non-retryably naming the file, leaving nothing in the store', async () => {
    const { ingestDataset } = createIngestActivities({ store: t.store });
    const synthetic = await activityEnv().run(ingestDataset, {
      runId: 'r',
      dataset: SMALL_DATASET,
      codeVersion: 'test',
    });
    const exported = await exportSnapshotToMmrec(await snapshotDir(t.store, synthetic.snapshot), {
      out: join(t.root, 'export', 'small'),
    });
    await t.store.delete(synthetic.snapshot);
    const featureFile = join(exported.dir, 'image_feat.npy');
    const bytes = await readFile(featureFile);
    await writeFile(featureFile, bytes.subarray(0, 40)); // header cut off mid-way: not a readable .npy
    const failure = await failureOf(
      activityEnv().run(ingestDataset, {
        runId: 'r',
        dataset: { kind: 'mmrec', dir: exported.dir },
        codeVersion: 'test',
      }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DatasetError');
    expect(failure.message).toContain(featureFile);
    expect(await t.store.list()).toEqual([]);
    expect((await t.leftovers()).filter((f) => !f.startsWith('export/'))).toEqual([]);
  });

  it('rejects an unknown synthetic preset as a non-retryable config error naming the field', async () => {
    const { ingestDataset } = createIngestActivities({ store: t.store });
    const failure = await failureOf(
      activityEnv().run(ingestDataset, {
        runId: 'r',
        dataset: { kind: 'synthetic', preset: 'huge', seed: 1 },
        codeVersion: 'test',
      }),
    );
    expect(failure).toMatchObject({ nonRetryable: true, type: 'ConfigError' });
    expect(failure.message).toMatch(/Unknown synthetic preset 'huge'.*dataset\.preset.*tiny \| office \| baby/);
  });
});
