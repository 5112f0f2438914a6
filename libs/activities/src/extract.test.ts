import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExtractHeartbeat, StageProgressUpdate } from '@sgfd/contracts';
import { originalIds } from '@sgfd/data';
import { createExtractActivities } from './extract';
import { loadSnapshotArtifact, snapshotDir } from './snapshot-artifact';
import { activityEnv, rawCatalogueSpec, tempStore, type TempStore } from './test-support/fixtures';

describe('extractFeatures', () => {
  let t: TempStore;
  beforeEach(async () => {
    t = await tempStore();
  });
  afterEach(async () => {
    await t.remove();
  });

  const rawSpec = (items: number) => rawCatalogueSpec(join(t.root, 'shop'), { items, seed: 9, maxTokens: 48 });

  it('heartbeats while hashing and per chunk, reports progress, and stores the run snapshot once, with the original ids', async () => {
    const updates: StageProgressUpdate[] = [];
    const { extractFeatures } = createExtractActivities({
      store: t.store,
      progress: async (_target, update) => void updates.push(update),
    });
    const env = activityEnv();
    const beats: ExtractHeartbeat[] = [];
    env.on('heartbeat', (d: unknown) => d && beats.push(d as ExtractHeartbeat));
    const dataset = await rawSpec(40);
    const first = await env.run(extractFeatures, { runId: 'r', dataset, codeVersion: 'test' });
    expect(first).toMatchObject({ encoded: { text: 40 }, cached: { text: 0 }, failed: { text: 0 }, reused: false });
    // First the hashing pass (every chunk's worth of items: a long pass over image files is not silence),
    // then one beat per encoded chunk.
    expect(beats.map((b) => [b.phase, b.done])).toEqual([
      ['hashing', 16],
      ['hashing', 32],
      ['hashing', 40],
      ['encoding', 16],
      ['encoding', 32],
      ['encoding', 40],
    ]);
    expect(updates.map((u) => [u.stage, u.epoch, u.maxEpochs])).toEqual([
      ['extract', 16, 40],
      ['extract', 32, 40],
      ['extract', 40, 40],
    ]);

    // The result is what ingestion gives for other sources, and the snapshot artifact it names is the only
    // one: what ingestion stores, with the same meta, and what the training stages load.
    expect(first).toMatchObject({
      counts: { users: 30, items: 40 },
      categories: expect.any(Number),
      modalities: ['text'],
    });
    expect(await t.store.list('snapshot/')).toEqual([first.snapshot]);
    const { manifest } = (await t.store.find({ kind: 'snapshot', key: first.snapshot.uri.split('/').pop()! }))!;
    expect(manifest.meta).toMatchObject({
      datasetId: first.datasetId,
      counts: first.counts,
      modalities: ['text'],
      codeVersion: 'test',
      createdBy: 'r',
      source: expect.any(String),
    });
    const loaded = await loadSnapshotArtifact(t.store, first.snapshot);
    expect(loaded.features.text?.dim).toBe(384);
    expect(loaded.manifest.id).toBe(first.datasetId);
    expect((await originalIds(await snapshotDir(t.store, first.snapshot))).item(0)).toMatch(/^B0/);

    // The same catalogue again: the stored snapshot, nothing encoded.
    const again = await activityEnv().run(extractFeatures, { runId: 'r2', dataset, codeVersion: 'test' });
    expect(again).toMatchObject({ reused: true, encoded: { text: 0 }, datasetId: first.datasetId });
    expect(again.snapshot).toEqual(first.snapshot);
  }, 240_000);

  it('a retry resumes after the chunks its previous attempt finished', async () => {
    const { extractFeatures } = createExtractActivities({ store: t.store });
    const dataset = await rawSpec(40);
    // An attempt that dies after its second chunk (cancelled here; a killed worker leaves the same cache).
    const env = activityEnv();
    let chunks = 0;
    env.on('heartbeat', (d?: ExtractHeartbeat) => {
      if (d?.phase === 'encoding' && ++chunks === 2) env.cancel();
    });
    const failed = await env.run(extractFeatures, { runId: 'r', dataset, codeVersion: 'test' }).catch((e) => e);
    expect(failed).toBeTruthy();
    const retry = activityEnv({
      attempt: 2,
      heartbeatDetails: { modality: 'text', phase: 'encoding', chunk: 2, done: 32, total: 40 },
    });
    const resumed = await retry.run(extractFeatures, { runId: 'r', dataset, codeVersion: 'test' });
    expect(resumed).toMatchObject({ encoded: { text: 8 }, cached: { text: 32 }, resumedAfterChunk: 2 });
  }, 240_000);

  it('fails at once, naming the row, on an item repeated with different content', async () => {
    const { extractFeatures } = createExtractActivities({ store: t.store });
    const dataset = await rawSpec(20);
    const { appendFile } = await import('node:fs/promises');
    const { readFile } = await import('node:fs/promises');
    const firstItem = (await readFile(dataset.items, 'utf8')).split('\n')[1]!;
    await appendFile(dataset.items, firstItem.replace(/, (\w+)"/, ', changed"') + '\n');
    const err = await activityEnv()
      .run(extractFeatures, { runId: 'r', dataset, codeVersion: 'test' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toContain('appears twice with different content');
    expect((err as ApplicationFailure).message).toContain('row 22');
    expect(await t.store.list('snapshot/')).toEqual([]);
  }, 120_000);
});
