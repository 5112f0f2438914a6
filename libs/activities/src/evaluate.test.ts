import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistillStudentResult, IngestDatasetResult, RunConfig } from '@sgfd/contracts';
import { decodeParquet, loadSnapshot } from '@sgfd/data';
import { currentBackend, initBackend } from '@sgfd/tensor';
import { createEvalActivities, RECOMMENDATIONS_K } from './evaluate';
import { createIngestActivities } from './ingest';
import { EVALUATION_FILES, type RunReport } from './report';
import { snapshotDir } from './snapshot-artifact';
import { createStudentActivities, readTrainingRecord } from './student';
import { SMALL_DATASET, activityEnv, smallConfig, tempStore, type TempStore } from './test-support/fixtures';

describe('evaluateModel', () => {
  let t: TempStore;
  let ingest: IngestDatasetResult;
  let student: DistillStudentResult;
  let config: RunConfig;
  const base = { runId: 'run-eval', codeVersion: 'test' };

  beforeAll(async () => {
    await initBackend();
    t = await tempStore();
    ingest = await activityEnv().run(createIngestActivities({ store: t.store }).ingestDataset, {
      ...base,
      dataset: SMALL_DATASET,
    });
    config = smallConfig({ sgfd: { mode: 'joint' }, training: { epochs: 4 } });
    student = await activityEnv().run(createStudentActivities({ store: t.store }).distillStudent, {
      ...base,
      snapshot: ingest.snapshot,
      datasetId: ingest.datasetId,
      teacher: null,
      config,
    });
  });
  afterAll(async () => {
    await t.remove();
  });

  const evaluate = () =>
    activityEnv().run(createEvalActivities({ store: t.store }).evaluateModel, {
      ...base,
      snapshot: ingest.snapshot,
      datasetId: ingest.datasetId,
      model: student.model,
      config,
    });

  it('scores the restored weights exactly as the student stage measured them, and writes the same numbers it returns', async () => {
    const result = await evaluate();
    const record = await readTrainingRecord(t.store, student.model);
    for (const [name, value] of Object.entries(record.test)) expect(result.test[name], name).toBeCloseTo(value, 6);
    for (const [name, value] of Object.entries(record.valid)) expect(result.valid[name], name).toBeCloseTo(value, 6);
    const written = JSON.parse(
      new TextDecoder().decode(await t.store.get(result.evaluation, EVALUATION_FILES.metrics)),
    );
    expect(written).toEqual({ test: result.test, valid: result.valid, popularity: result.popularity });
    expect(result.popularity['recall@20']).toBeGreaterThan(0);
    expect(Object.keys(result.test)).toEqual(
      expect.arrayContaining(['recall@5', 'ndcg@10', 'precision@20', 'map@50', 'hit@20']),
    );
    expect(await evaluate()).toEqual({ ...result, reused: true });
    // Per-user test values whose mean is the reported mean (what sgfd start's paired test reads).
    const perUser = JSON.parse(
      new TextDecoder().decode(await t.store.get(result.evaluation, EVALUATION_FILES.perUserTest)),
    ) as { users: number[]; metrics: Record<string, number[]> };
    for (const metric of ['recall@20', 'ndcg@20']) {
      const values = perUser.metrics[metric]!;
      expect(values).toHaveLength(perUser.users.length);
      expect(values.reduce((a, b) => a + b, 0) / values.length).toBeCloseTo(result.test[metric]!, 5);
    }
  });

  it('writes top-K recommendations for every user as Parquet, masked as the test metrics mask, K and masking in its metadata', async () => {
    const result = await evaluate();
    const path = await t.store.openPath(result.evaluation, EVALUATION_FILES.recommendations);
    const bytes = new Uint8Array(await readFile(path));
    const table = decodeParquet(bytes, path);
    const metadata = Object.fromEntries(
      (parquetMetadata(bytes.buffer).key_value_metadata ?? []).map(({ key, value }) => [key, value]),
    );
    expect(metadata).toMatchObject({ 'sgfd.k': String(RECOMMENDATIONS_K), 'sgfd.exclude_seen': 'train' });
    expect(config.training.maskValidInTest).toBe(false);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['user', 'rank', 'item', 'score', 'user_id', 'item_id']);
    // A synthetic dataset has no ids of its own: the id is the index as text.
    expect(table.getChild('item_id')!.get(0)).toBe(String(table.getChild('item')!.get(0)));
    const dataset = await loadSnapshot(await snapshotDir(t.store, ingest.snapshot));
    expect(table.numRows).toBe(dataset.nUsers * RECOMMENDATIONS_K);
    const users = table.getChild('user')!.toArray() as Int32Array;
    const ranks = table.getChild('rank')!.toArray() as Int32Array;
    const items = table.getChild('item')!.toArray() as Int32Array;
    const scores = table.getChild('score')!.toArray() as Float32Array;
    const known = new Set<string>();
    const train = dataset.splits.train;
    for (let p = 0; p < train.users.length; p++) known.add(`${train.users[p]}:${train.items[p]}`);
    for (let r = 0; r < table.numRows; r++) {
      expect(known.has(`${users[r]}:${items[r]}`)).toBe(false);
      expect(ranks[r]).toBe((r % RECOMMENDATIONS_K) + 1);
      if (ranks[r]! > 1) expect(scores[r]).toBeLessThanOrEqual(scores[r - 1]!);
    }
    expect(new Set(users).size).toBe(dataset.nUsers);

    // Recall@20 recomputed from the file agrees with the reported test metric (same masking; the metric's
    // scores come from the tensor scorer, the file's from the precomputed representations, so near ties
    // may order differently).
    const test = new Map<number, Set<number>>();
    for (let p = 0; p < dataset.splits.test.users.length; p++) {
      const u = dataset.splits.test.users[p]!;
      if (!test.has(u)) test.set(u, new Set());
      test.get(u)!.add(dataset.splits.test.items[p]!);
    }
    let recall = 0;
    for (const [u, relevant] of test) {
      let hits = 0;
      for (let j = 0; j < 20; j++) if (relevant.has(items[u * RECOMMENDATIONS_K + j]!)) hits++;
      recall += hits / relevant.size;
    }
    expect(recall / test.size).toBeCloseTo(result.test['recall@20']!, 2);
  });

  it('writes a report (Markdown, JSON, training curve SVG) recording seed, data hash, config, backend and code version', async () => {
    const result = await evaluate();
    const read = async (file: string) => new TextDecoder().decode(await t.store.get(result.evaluation, file));
    const report = JSON.parse(await read(EVALUATION_FILES.reportJson)) as RunReport;
    expect(report.run).toMatchObject({
      seed: 3,
      datasetId: ingest.datasetId,
      config,
      backend: currentBackend(),
      codeVersion: 'test',
      runId: 'run-eval',
    });
    expect(report.metrics.test).toEqual(result.test);
    expect(report.model).toMatchObject({ backbone: 'vbpr', sgfd: 'joint', epochsRun: 4 });
    const markdown = await read(EVALUATION_FILES.reportMarkdown);
    expect(markdown).toContain('# VBPR + SGFD (joint)');
    expect(markdown).toContain(`| recall (model) | ${result.test['recall@5']!.toFixed(4)} |`);
    expect(markdown).toContain(`](${EVALUATION_FILES.curve})`);
    const svg = await read(EVALUATION_FILES.curve);
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.match(/<path d="M/g)).toHaveLength(2);
    expect(join(await t.store.openPath(result.evaluation), EVALUATION_FILES.reportMarkdown)).toMatch(
      /evaluation\/[0-9a-f]{64}\/report\.md$/,
    );
  });
});

describe('evaluateModel of a graph backbone', () => {
  let t: TempStore;
  beforeAll(async () => {
    await initBackend();
    t = await tempStore();
  });
  afterAll(async () => {
    await t.remove();
  });

  it('trains FREEDOM with kNN graphs stored once in the artifact store and scores the restored weights exactly', async () => {
    const base = { runId: 'run-freedom', codeVersion: 'test' };
    const ingest = await activityEnv().run(createIngestActivities({ store: t.store }).ingestDataset, {
      ...base,
      dataset: SMALL_DATASET,
    });
    const config = smallConfig({ backbone: 'freedom', sgfd: { mode: 'off' }, training: { epochs: 2 } });
    const stage = { ...base, snapshot: ingest.snapshot, datasetId: ingest.datasetId, config };
    const student = await activityEnv().run(createStudentActivities({ store: t.store }).distillStudent, {
      ...stage,
      teacher: null,
    });
    const graphs = await t.store.list('knn-graph/');
    expect(graphs.length).toBeGreaterThan(0);
    const result = await activityEnv().run(createEvalActivities({ store: t.store }).evaluateModel, {
      ...stage,
      model: student.model,
    });
    expect(await t.store.list('knn-graph/')).toEqual(graphs);
    const record = await readTrainingRecord(t.store, student.model);
    for (const [name, value] of Object.entries(record.test)) expect(result.test[name], name).toBeCloseTo(value, 6);
  });
});
