// Feature extraction against an s3:// store: the feature cache is `features` artifacts in the bucket, one
// per finished chunk, so an attempt stopped on one machine is resumed on another (its own local cache
// folder, nothing shared but the bucket), a re-run encodes nothing and a grown catalogue only its new items.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '@sgfd/artifacts';
import type { ExtractHeartbeat } from '@sgfd/contracts';
import { loadSnapshot, originalIds } from '@sgfd/data';
import { createTestBucket, useTestS3 } from '@sgfd/tools/testing';
import { createExtractActivities } from './extract';
import { snapshotDir } from './snapshot-artifact';
import { activityEnv, rawCatalogueSpec } from './test-support/fixtures';

describe('extractFeatures on an s3:// store', () => {
  let bucket: string;
  let work: string;
  const machine = async () =>
    new S3ArtifactStore({ bucket, prefix: 'shop', cacheDir: await mkdtemp(join(work, 'machine-')) });
  beforeAll(async () => {
    useTestS3();
    bucket = await createTestBucket('extract');
    work = await mkdtemp(join(tmpdir(), 'sgfd-extract-s3-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const catalogue = (items: number) => rawCatalogueSpec(join(work, 'shop'), { items, seed: 4, maxTokens: 32 });

  it('keeps the feature cache in the bucket: a retry elsewhere resumes, a re-run encodes 0, 10 more items encode 10', async () => {
    const dataset = await catalogue(40);
    const a = await machine();
    const first = activityEnv();
    let chunks = 0;
    first.on('heartbeat', (d?: ExtractHeartbeat) => {
      if (d?.phase === 'encoding' && ++chunks === 2) first.cancel();
    });
    const stopped = await first
      .run(createExtractActivities({ store: a }).extractFeatures, { runId: 'r', dataset, codeVersion: 'v1' })
      .catch((e: unknown) => e);
    expect(stopped).toBeTruthy();
    // Two finished chunks are in the bucket, each its own artifact; no snapshot yet.
    expect(await a.list('features/')).toHaveLength(2);
    expect(await a.list('snapshot/')).toEqual([]);

    // Another machine, another local cache folder: it takes the two chunks from the bucket.
    const b = await machine();
    const retry = activityEnv({
      attempt: 2,
      heartbeatDetails: { modality: 'text', phase: 'encoding', chunk: 2, done: 32, total: 40 },
    });
    const resumed = await retry.run(createExtractActivities({ store: b }).extractFeatures, {
      runId: 'r',
      dataset,
      codeVersion: 'v1',
    });
    expect(resumed).toMatchObject({ encoded: { text: 8 }, cached: { text: 32 }, reused: false });
    expect(await b.list('features/')).toHaveLength(3);
    const dir = await snapshotDir(b, resumed.snapshot);
    expect((await loadSnapshot(dir)).features.text).toMatchObject({ rows: 40, dim: 384 });
    expect((await originalIds(dir)).item(0)).toMatch(/^B0/);

    // A new code version builds a new snapshot, but every feature comes from the bucket's cache.
    const c = await machine();
    const rerun = await activityEnv().run(createExtractActivities({ store: c }).extractFeatures, {
      runId: 'r2',
      dataset,
      codeVersion: 'v2',
    });
    expect(rerun).toMatchObject({ encoded: { text: 0 }, cached: { text: 40 }, reused: false });
    expect(rerun.datasetId).toBe(resumed.datasetId);

    const grown = await catalogue(50);
    const more = await activityEnv().run(createExtractActivities({ store: c }).extractFeatures, {
      runId: 'r3',
      dataset: grown,
      codeVersion: 'v2',
    });
    expect(more).toMatchObject({ encoded: { text: 10 }, cached: { text: 40 } });
    expect(await c.list('features/')).toHaveLength(4);
  }, 300_000);
});
