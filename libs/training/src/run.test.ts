import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type RunManifest } from '@sgfd/contracts';
import { initBackend } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curveCsv } from './curve';
import { evaluateBackbone } from './evaluation';
import { loadRunModel } from './model-io';
import type { RunMetrics } from './run';
import { trainRun } from './run';
import { RUN_FILES } from './run-files';
import { tinyDataset } from './test-support/datasets';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trainRun', () => {
  it('trains from a snapshot directory and writes metrics, curve (CSV + SVG), teacher, model and manifest', async () => {
    const dataset = await tinyDataset();
    const outDir = join(dir, 'two-stage');
    const config = {
      backbone: 'vbpr' as const,
      sgfd: { mode: 'two-stage' as const, teacher: { epochs: 3, batchSize: 64, learningRate: 0.02 } },
      training: { epochs: 3, batchSize: 1024, learningRate: 0.01, seed: 7 },
    };
    const result = await trainRun(dataset.dir!, config, { outDir });

    const manifest = JSON.parse(await readFile(join(outDir, RUN_FILES.manifest), 'utf8')) as RunManifest;
    expect(manifest).toMatchObject({ seed: 7, datasetId: dataset.manifest.id, backend: expect.any(String) });
    expect(manifest.codeVersion).toMatch(/^(git:[0-9a-f]+(-dirty-[0-9a-f]{12})?|unknown)$/);
    expect(manifest.config.backboneParams).toEqual({ embeddingSize: 64, regWeight: expect.any(Number) });
    expect(manifest.config.sgfd.tau).toBe(10);

    const metrics = JSON.parse(await readFile(join(outDir, RUN_FILES.metrics), 'utf8')) as RunMetrics;
    expect(metrics.test['recall@20']).toBe(result.metrics.test['recall@20']);
    expect(metrics.valid['ndcg@20']).toBeGreaterThan(0);
    expect(metrics.popularity.valid['recall@20']).toBeGreaterThan(0);
    expect(metrics.teacher!.epochsRun).toBe(3);

    const csv = (await readFile(join(outDir, RUN_FILES.curveCsv), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(1 + 3 + 3);
    expect(csv[0]).toMatch(/^stage,epoch,seconds,loss\.total,/);
    expect(csv.filter((l) => l.startsWith('teacher,'))).toHaveLength(3);
    expect(await readFile(join(outDir, RUN_FILES.curveSvg), 'utf8')).toMatch(/^<svg[^]*<path d="M[^]*<\/svg>\n$/);
    expect(existsSync(join(outDir, RUN_FILES.teacher, 'teacher.tensors.json'))).toBe(true);

    // Running it again finds the finished run; another config in the same directory is refused.
    expect((await trainRun(dataset, config, { outDir })).metrics).toEqual(result.metrics);
    await expect(
      trainRun(dataset, { ...config, training: { ...config.training, seed: 8 } }, { outDir }),
    ).rejects.toThrow(ConfigError);

    // The saved model, rebuilt with its students, scores exactly as at the end of training.
    const model = await loadRunModel(outDir, dataset);
    expect(evaluateBackbone(dataset, model.backbone, 'test').mean).toEqual(result.metrics.test);
    model.dispose();
  });

  it('rejects a bad config with a ConfigError naming the field, before any training', async () => {
    const dataset = await tinyDataset();
    await expect(
      trainRun(dataset, { backbone: 'vbpr', backboneParams: { embedingSize: 8 } }, { outDir: join(dir, 'bad') }),
    ).rejects.toThrow(ConfigError);
    await expect(
      trainRun(dataset, { backbone: 'vbpr', training: { epochs: 0 } }, { outDir: join(dir, 'bad') }),
    ).rejects.toThrow(/training\.epochs/);
    expect(existsSync(join(dir, 'bad', RUN_FILES.manifest))).toBe(false);
  });
});

describe('curveCsv', () => {
  it('writes one row per epoch, blanks for epochs without validation', () => {
    const csv = curveCsv([
      { stage: 'student', epoch: 1, seconds: 0.5, loss: { total: 1.25, 'vbpr.bpr': 1 }, valid: null },
      {
        stage: 'student',
        epoch: 2,
        seconds: 0.25,
        loss: { total: 0.5, 'vbpr.bpr': 0.4 },
        valid: { 'recall@20': 0.125 },
      },
    ]);
    expect(csv).toBe(
      'stage,epoch,seconds,loss.total,loss.vbpr.bpr,valid.recall@20\nstudent,1,0.5,1.25,1,\nstudent,2,0.25,0.5,0.4,0.125\n',
    );
  });
});
