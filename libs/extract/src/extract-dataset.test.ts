import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileArtifactStore } from '@sgfd/artifacts';
import { loadSnapshot, originalIds } from '@sgfd/data';
import { RAW_CATALOGUE_COLUMNS, writeRawCatalogue } from './catalogue/raw-catalogue-writer';
import { extractDataset, type ExtractDatasetOptions } from './extract-dataset';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-extract-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function catalogue(items: number) {
  return writeRawCatalogue(join(work, 'shop'), { items, users: 40, interactionsPerUser: 8, seed: 5 });
}

function options(files: { items: string; interactions: string }, extra: Partial<ExtractDatasetOptions> = {}) {
  return {
    ...files,
    columns: { ...RAW_CATALOGUE_COLUMNS, image: undefined },
    categoryLevel: 2,
    extraction: { text: { separator: ' | ', maxTokens: 64 } },
    featureStore: new FileArtifactStore(join(work, 'cache')),
    root: join(work, 'snapshots'),
    chunkSize: 32,
    ...extra,
  } satisfies ExtractDatasetOptions;
}

describe('extractDataset: a raw catalogue to a snapshot with text features', () => {
  it('encodes every item once; a re-run encodes 0 items; 10 more items encode 10', async () => {
    const files = await catalogue(100);
    const chunks: number[] = [];
    const hashed: number[] = [];
    const first = await extractDataset(
      options(files, { onProgress: (p) => void (p.phase === 'hashing' ? hashed : chunks).push(p.done) }),
    );
    expect(first.stats.text).toMatchObject({
      items: 100,
      encoded: 100,
      cached: 0,
      failed: 0,
      dim: 384,
      modelLoaded: true,
    });
    expect(chunks).toEqual([32, 64, 96, 100]);
    // The hashing pass reports too (every chunk's worth of items), so a long one still heartbeats.
    expect(hashed).toEqual(expect.arrayContaining([32, 64, 96, 100]));
    const dataset = await loadSnapshot(first.dir);
    expect(dataset.features.text).toMatchObject({ rows: 100, dim: 384 });
    const ids = await originalIds(first.dir);
    expect(ids.item(0)).toBe([...files.itemIds].sort()[0]);
    expect(dataset.manifest.source).toMatchObject({
      kind: 'raw',
      extraction: {
        modalities: {
          text: { dim: 384, settings: { columns: ['title', 'description'], separator: ' | ', maxTokens: 64 } },
        },
      },
    });

    const again = await extractDataset(options(files));
    // Nothing to encode: the sentence encoder is not even loaded.
    expect(again.stats.text).toMatchObject({ encoded: 0, cached: 100, modelLoaded: false, dim: 384 });
    expect(again.id).toBe(first.id);
    expect(again.created).toBe(false);

    const grown = await catalogue(110);
    const third = await extractDataset(options(grown));
    expect(third.stats.text).toMatchObject({ items: 110, encoded: 10, cached: 100 });
    // The cached rows are the same features as a fresh encoding gives.
    const thirdData = await loadSnapshot(third.dir);
    const thirdIds = await originalIds(third.dir);
    const i = ids.itemOf(files.itemIds[7]!)!;
    const j = thirdIds.itemOf(files.itemIds[7]!)!;
    expect(Array.from(thirdData.features.text!.data.subarray(j * 384, (j + 1) * 384))).toEqual(
      Array.from(dataset.features.text!.data.subarray(i * 384, (i + 1) * 384)),
    );
  }, 240_000);

  it('resumes after the last finished chunk when a run is stopped', async () => {
    const files = await catalogue(100);
    const controller = new AbortController();
    const stopped = await extractDataset(
      options(files, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'encoding' && p.chunk === 2) controller.abort(new Error('stopped by the test'));
        },
      }),
    ).catch((e: unknown) => e);
    expect(String(stopped)).toContain('stopped by the test');
    const resumed = await extractDataset(options(files));
    expect(resumed.stats.text).toMatchObject({ encoded: 100 - 64, cached: 64 });
  }, 240_000);

  it('changing a text setting encodes again under its own cache key', async () => {
    const files = await catalogue(40);
    await extractDataset(options(files));
    const other = await extractDataset(options(files, { extraction: { text: { separator: ' | ', maxTokens: 32 } } }));
    expect(other.stats.text).toMatchObject({ encoded: 40, cached: 0 });
  }, 240_000);
});
