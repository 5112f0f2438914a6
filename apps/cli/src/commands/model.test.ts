import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCapturing } from '../test-support/run-in-process';
import { trainTwoModels, type TrainedModels } from '../test-support/trained-models';
import * as model from './model';
import * as recommend from './recommend';

const STOCK = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-support', 'stock-tfjs-top-k.mjs');
let t: TrainedModels;
const sgfd = (...argv: string[]) => runCliCapturing([model, recommend], argv);

beforeAll(async () => {
  t = await trainTwoModels();
}, 120_000);
afterAll(async () => {
  await t?.remove();
});

function stock(dir: string, k: number, users: string[]) {
  return new Promise<{
    fromTfjs: { items: number[][]; scores: number[][] };
    fromParquet: number[][];
    score: string;
    tfjs: { model: string };
  }>((resolve, reject) => {
    execFile(process.execPath, [STOCK, dir, String(k), ...users], (error, stdout, stderr) =>
      error ? reject(new Error(stderr || error.message)) : resolve(JSON.parse(stdout)),
    );
  });
}

describe('sgfd model export', () => {
  it('writes a TF.js layers model and Parquet representations that stock tools load and rank exactly as sgfd recommend', async () => {
    const out = join(t.root, 'export');
    const exported = await sgfd('model', 'export', t.models[0].evaluationDir, '--format', 'tfjs-layers', '--out', out);
    expect(exported.code, exported.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      'items.parquet',
      'scoring.json',
      'seen.parquet',
      'tfjs',
      'users.parquet',
    ]);
    expect((await readdir(t.root)).filter((f) => f.startsWith('.tmp'))).toEqual([]);

    const users = ['0', '17', '63'];
    const k = 10;
    const theirs = await stock(out, k, users);
    const ours = await sgfd(
      'recommend',
      out,
      ...users.flatMap((u) => ['--user', u]),
      '--k',
      String(k),
      '--exclude-seen',
      'none',
      '--json',
    );
    const results = (JSON.parse(ours.stdout) as { results: { items: { item: string; score: number }[] }[] }).results;
    results.forEach((r, j) => {
      const items = r.items.map((i) => Number(i.item));
      expect(theirs.fromTfjs.items[j]).toEqual(items);
      expect(theirs.fromParquet[j]).toEqual(items);
      r.items.forEach((i, n) => expect(theirs.fromTfjs.scores[j]![n]).toBeCloseTo(i.score, 4));
    });
    expect(theirs.tfjs.model).toBe('tfjs/model.json');

    const again = await sgfd('model', 'export', t.models[0].evaluationDir, '--out', out, '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.message).toMatch(/export folder exists already/);
  });
});
