import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyDataset } from '../test-support/datasets';
import { popularity, trainWithSchedule } from './learn';

// GRCN recomputes its whole graph every step: fewer, larger steps.
const settings = { training: { batchSize: 2048 } };
let dir: string;
let pop: number;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-grcn-'));
  pop = await popularity(await tinyDataset());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('GRCN trained on the tiny synthetic preset', () => {
  it('reaches validation Recall@20 of at least twice the popularity baseline', async () => {
    const { result, projections } = await trainWithSchedule('grcn', 'off', join(dir, 'off'), settings);
    expect(projections).toEqual({ image: 'linear', text: 'linear' });
    expect(result.valid['recall@20']).toBeGreaterThanOrEqual(2 * pop);
  });

  it.each(['two-stage', 'joint'] as const)(
    'runs with SGFD %s: students replace its projections, the SGFD losses train, it learns',
    async (mode) => {
      const { result, projections } = await trainWithSchedule('grcn', mode, join(dir, mode), settings);
      expect(projections).toEqual({ image: 'sgfd-student', text: 'sgfd-student' });
      expect(Object.keys(result.history[0].loss)).toEqual(expect.arrayContaining(['sgfd.ce', 'sgfd.ld', 'sgfd.fd']));
      expect(result.valid['recall@20']).toBeGreaterThanOrEqual(2 * pop);
    },
  );
});
