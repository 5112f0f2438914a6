import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { RunConfigSchema } from '@sgfd/contracts';
import { MODEL_FILE_BASE } from '@sgfd/models';
import { initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_PARTS } from './objective';
import { trainRun } from './run';
import { tinyDataset } from './test-support/datasets';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sgfd-control-'));
  await initBackend({ log: () => undefined });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const controlConfig = (
  backbone: 'vbpr' | 'bm3',
  studentForm: 'normalised' | 'projection',
  image: 'none' | 'log1p' = 'log1p',
) =>
  RunConfigSchema.parse({
    backbone,
    training: { learningRate: 0.01, batchSize: 512, epochs: 3, evalEvery: 3, patience: 1 },
    // Loss weights that would matter if any SGFD term ran: control must ignore them.
    sgfd: { mode: 'control', studentForm, ceWeight: 1, kdWeight: 1, inputTransform: { image } },
  });

describe("sgfd.mode 'control' (the authors' ablation) on the tiny preset", () => {
  it('trains the students with every SGFD loss part exactly 0, without a teacher or its artifact', async () => {
    const dataset = await tinyDataset();
    const outDir = join(dir, 'vbpr');
    const before = tf.memory().numTensors;
    const { metrics } = await trainRun(dataset, controlConfig('vbpr', 'normalised'), { outDir });
    expect(tf.memory().numTensors).toBe(before);
    expect(metrics.teacher).toBeNull();
    const curve = (await readFile(join(outDir, 'curve.csv'), 'utf8')).trim().split('\n');
    const header = curve[0]!.split(',');
    const rows = curve.slice(1).map((l) => l.split(','));
    expect(rows.length).toBe(3);
    expect(rows.every((r) => r[header.indexOf('stage')] === 'student')).toBe(true);
    for (const part of CONTROL_PARTS) {
      const column = header.indexOf(`loss.${part}`);
      expect(column, part).toBeGreaterThan(-1);
      for (const row of rows) expect(Number(row[column])).toBe(0);
    }
    // The backbone's own loss is there and learning.
    const bpr = header.indexOf('loss.vbpr.bpr');
    expect(Number(rows[2]![bpr])).toBeLessThan(Number(rows[0]![bpr]));
    await expect(readFile(join(outDir, 'teacher', 'manifest.json'))).rejects.toThrow();
    const saved = JSON.parse(await readFile(join(outDir, 'model', `${MODEL_FILE_BASE}.json`), 'utf8')) as {
      meta: { projections: Record<string, string> };
    };
    expect(saved.meta.projections).toEqual({ image: 'sgfd-student', text: 'sgfd-student' });
  });

  it('with the projection form and raw inputs, control is the plain backbone exactly; log1p inputs change it', async () => {
    const dataset = await tinyDataset();
    const raw = controlConfig('vbpr', 'projection', 'none');
    const control = await trainRun(dataset, raw, { outDir: join(dir, 'proj') });
    const plain = await trainRun(
      dataset,
      { ...raw, sgfd: { ...raw.sgfd, mode: 'off' } },
      { outDir: join(dir, 'plain') },
    );
    expect(control.metrics.test).toEqual(plain.metrics.test);
    const log1p = await trainRun(dataset, controlConfig('vbpr', 'projection'), { outDir: join(dir, 'proj-log1p') });
    expect(log1p.metrics.test).not.toEqual(plain.metrics.test);
  });
});
