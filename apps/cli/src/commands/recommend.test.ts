import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCapturing } from '../test-support/run-in-process';
import { trainTwoModels, type TrainedModels } from '../test-support/trained-models';
import * as recommend from './recommend';
import { RunConfigSchema } from '@sgfd/contracts';

let t: TrainedModels;
const sgfd = (...argv: string[]) => runCliCapturing([recommend], argv);

beforeAll(async () => {
  t = await trainTwoModels();
}, 120_000);
afterAll(async () => {
  await t?.remove();
});

async function readRecommendations(path: string) {
  const bytes = new Uint8Array(await readFile(path));
  const table = (await import('@sgfd/data')).decodeParquet(bytes, path);
  const column = (name: string) => Array.from(table.getChild(name)!.toArray() as ArrayLike<number>);
  const metadata = Object.fromEntries(
    (parquetMetadata(bytes.buffer).key_value_metadata ?? []).map(({ key, value }) => [key, value]),
  );
  return { user: column('user'), rank: column('rank'), item: column('item'), score: column('score'), metadata };
}

describe('sgfd recommend', () => {
  it("--all equals the evaluation's recommendations.parquet for the same model and masking; --user gives the same rows", async () => {
    const model = t.models[0];
    const evaluation = await readRecommendations(join(model.evaluationDir, 'recommendations.parquet'));
    expect(evaluation.metadata).toMatchObject({ 'sgfd.k': '50', 'sgfd.exclude_seen': 'train' });

    const out = join(t.root, 'all.parquet');
    const all = await sgfd(
      'recommend',
      model.evaluationDir,
      '--all',
      '--out',
      out,
      '--k',
      '50',
      '--exclude-seen',
      'train',
    );
    expect(all.code, all.stderr).toBe(0);
    const mine = await readRecommendations(out);
    expect(mine).toEqual(evaluation);

    const one = await sgfd('recommend', model.evaluationDir, '--user', '7', '--user', '3', '--k', '5', '--json');
    expect(one.code, one.stderr).toBe(0);
    const { results } = JSON.parse(one.stdout) as {
      results: { user: string; items: { item: string; score: number }[] }[];
    };
    expect(results.map((r) => r.user)).toEqual(['7', '3']);
    for (const { user, items } of results) {
      const rows = evaluation.user.flatMap((u, r) => (u === Number(user) && evaluation.rank[r]! <= 5 ? [r] : []));
      expect(items.map((i) => Number(i.item))).toEqual(rows.map((r) => evaluation.item[r]));
      expect(items.map((i) => i.score)).toEqual(rows.map((r) => evaluation.score[r]));
    }
  });

  it('masks as asked: none can return training items, train+valid never a validation item', async () => {
    const model = t.models[0];
    const none = await sgfd(
      'recommend',
      model.evaluationDir,
      '--user',
      '0',
      '--k',
      '90',
      '--exclude-seen',
      'none',
      '--json',
    );
    const strict = await sgfd(
      'recommend',
      model.evaluationDir,
      '--user',
      '0',
      '--k',
      '90',
      '--exclude-seen',
      'train+valid',
      '--json',
    );
    const count = (r: { stdout: string }) =>
      (JSON.parse(r.stdout) as { results: { items: unknown[] }[] }).results[0]!.items.length;
    expect(count(none)).toBe(90);
    expect(count(strict)).toBeLessThan(90);
  });

  it('a schedule id means its current champion', async () => {
    await t.promote('shop', 1, t.models[0]);
    await t.promote('shop', 2, t.models[1]);
    const bySchedule = await sgfd('recommend', 'shop', '--artifacts', t.root, '--user', '4', '--k', '10', '--json');
    const byFolder = await sgfd('recommend', t.models[1].evaluationDir, '--user', '4', '--k', '10', '--json');
    expect(bySchedule.code, bySchedule.stderr).toBe(0);
    expect(JSON.parse(bySchedule.stdout).results).toEqual(JSON.parse(byFolder.stdout).results);
    expect(JSON.parse(bySchedule.stdout).model.run).toBe('run-2');
  });

  it('bad input: an unknown user, k = 0, a bad masking, --all without --out', async () => {
    const dir = t.models[0].evaluationDir;
    const unknown = await sgfd('recommend', dir, '--user', '120', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr).error.message).toMatch(
      /Unknown user '120'.*field '--user': expected a user id of the model.*0\.\.119/,
    );
    expect((await sgfd('recommend', dir, '--user', '1', '--k', '0')).stderr).toMatch(/--k must be an integer >= 1/);
    expect((await sgfd('recommend', dir, '--user', '1', '--exclude-seen', 'test')).stderr).toMatch(
      /train, train\+valid, none/,
    );
    const noOut = await sgfd('recommend', dir, '--all');
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--all needs --out/);
  });

  it('a run folder of `sgfd train` gets its scoring bundle computed once, then ranks from it', async () => {
    const { generateSynthetic, writeSnapshot } = await import('@sgfd/data');
    const { trainRun } = await import('@sgfd/training');
    const root = join(t.root, 'datasets');
    const data = generateSynthetic({
      preset: 'tiny',
      seed: 5,
      users: 60,
      items: 40,
      categories: 4,
      interactionsPerUser: 10,
      imageDim: 16,
      textDim: 8,
    });
    const { dir } = await writeSnapshot(data, { root });
    const runDir = join(t.root, 'train-run');
    await trainRun(dir, RunConfigSchema.parse({ backbone: 'vbpr', sgfd: { mode: 'off' }, training: { epochs: 1 } }), {
      outDir: runDir,
    });
    const first = await sgfd('recommend', runDir, '--root', root, '--user', '2', '--k', '5', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(runDir, 'scoring', 'scoring.json'))).toBe(true);
    const viaBundle = await sgfd('recommend', join(runDir, 'scoring'), '--user', '2', '--k', '5', '--json');
    expect(JSON.parse(first.stdout).results).toEqual(JSON.parse(viaBundle.stdout).results);
    expect(JSON.parse(first.stdout).results[0].items).toHaveLength(5);
  }, 120_000);
});
