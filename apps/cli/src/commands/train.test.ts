import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from './train';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'sgfd.mjs');

let work: string;

function sgfd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: work, env: { ...process.env, SGFD_HOME: join(work, 'home') } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-train-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sgfd train', () => {
  it('builds the run config from --config, then flags, then --set', async () => {
    const file = join(work, 'run.json');
    await writeFile(file, JSON.stringify({ backbone: 'bm3', sgfd: { tau: 5 }, training: { epochs: 9 } }));
    const config = await buildConfig({
      config: file,
      epochs: 3,
      sgfd: 'joint',
      set: ['sgfd.tau=50', 'sgfd.responseLoss=kl', 'backboneParams.nLayers=2'],
      root: '',
    });
    expect(config).toEqual({
      backbone: 'bm3',
      backboneParams: { nLayers: 2 },
      sgfd: { mode: 'joint', tau: 50, responseLoss: 'kl' },
      training: { epochs: 3 },
    });
    expect((await buildConfig({ set: [], root: '' })).backbone).toBe('vbpr');
    await expect(buildConfig({ set: ['nokey'], root: '' })).rejects.toThrow(/key=value/);
  });

  it('trains on a snapshot and writes metrics, curves and the model; bad config exits 1 with the field', async () => {
    const synth = await sgfd('data', 'synth', '--preset', 'tiny', '--seed', '3', '--json');
    expect(synth.code, synth.stderr).toBe(0);
    const { id } = JSON.parse(synth.stdout) as { id: string };
    const out = join(work, 'run');
    const train = await sgfd(
      'train',
      id.slice(0, 10),
      '--sgfd',
      'off',
      '--epochs',
      '2',
      '--batch-size',
      '2048',
      '--out',
      out,
      '--json',
    );
    expect(train.code, train.stderr).toBe(0);
    const result = JSON.parse(train.stdout) as {
      outDir: string;
      bestEpoch: number;
      test: Record<string, number>;
      manifest: { datasetId: string };
    };
    expect(result.outDir).toBe(out);
    expect(result.manifest.datasetId).toBe(id);
    expect(result.test['recall@20']).toBeGreaterThan(0);
    for (const file of ['metrics.json', 'curve.csv', 'curve.svg', 'manifest.json', 'model/weights.tensors.json'])
      expect(existsSync(join(out, file)), file).toBe(true);
    expect(JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')).test).toEqual(result.test);

    const bad = await sgfd('train', id.slice(0, 10), '--set', 'sgfd.tau=-1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/sgfd\.tau/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
