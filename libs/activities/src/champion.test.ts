import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactRef, ChampionDecision, ChampionRecord } from '@sgfd/contracts';
import { createChampionActivities } from './champion';
import { configKeyOf, listChampionHistory } from './champion-history';
import { activityEnv, smallConfig, tempStore, type TempStore } from './test-support/fixtures';

// The champion history as the artifact store keeps it (decisions only: training and re-scoring run in the
// schedule tests of apps/cli against the real server).

const ref = (kind: ArtifactRef['kind'], n: number): ArtifactRef => ({
  uri: `file:///x/${kind}/${n}`,
  sha256: String(n).repeat(64).slice(0, 64),
  bytes: 1,
  kind,
});

function champion(n: number): ChampionRecord {
  const config = smallConfig();
  return {
    model: ref('model', n),
    evaluation: ref('evaluation', n),
    snapshot: ref('snapshot', n),
    datasetId: `${n}`.repeat(64).slice(0, 64),
    counts: { users: 10, items: 5, interactions: 40, train: 30, valid: 5, test: 5 },
    config,
    configKey: configKeyOf(config, 'test'),
    codeVersion: 'test',
    metrics: { valid: { 'recall@20': 0.1 * n }, test: { 'recall@20': 0.1 * n } },
    workflowId: `wf-${n}`,
    since: new Date(0).toISOString(),
  };
}

function decision(
  seq: number,
  workflowId: string,
  outcome: ChampionDecision['outcome'],
  current: ChampionRecord | null,
): ChampionDecision {
  return {
    scheduleId: 'nightly',
    seq,
    decidedAt: new Date(seq * 1000).toISOString(),
    workflowId,
    outcome,
    reason: outcome,
    datasetId: current?.datasetId ?? '0'.repeat(64),
    configKey: current?.configKey ?? 'k',
    metric: 'recall@20',
    challenger: null,
    championScore: null,
    champion: current,
  };
}

describe('champion history', () => {
  let t: TempStore;
  beforeEach(async () => {
    t = await tempStore();
  });
  afterEach(async () => {
    await t.remove();
  });

  it('starts empty, then the latest decision names the champion; every decision stays listed in order', async () => {
    const { readChampion, recordDecision } = createChampionActivities({ store: t.store });
    const env = activityEnv();
    const config = smallConfig();
    const empty = await env.run(readChampion, { scheduleId: 'nightly', config, codeVersion: 'test' });
    expect(empty).toEqual({ latest: null, configKey: configKeyOf(config, 'test') });

    await env.run(recordDecision, { decision: decision(1, 'run-1', 'promoted', champion(1)) });
    await env.run(recordDecision, { decision: decision(2, 'run-2', 'kept', champion(1)) });
    await env.run(recordDecision, { decision: decision(3, 'run-3', 'promoted', champion(3)) });
    const { latest } = await env.run(readChampion, { scheduleId: 'nightly', config, codeVersion: 'test' });
    expect(latest!.seq).toBe(3);
    expect(latest!.champion!.model).toEqual(ref('model', 3));
    expect((await listChampionHistory(t.store, 'nightly')).map((d) => [d.seq, d.outcome, d.workflowId])).toEqual([
      [1, 'promoted', 'run-1'],
      [2, 'kept', 'run-2'],
      [3, 'promoted', 'run-3'],
    ]);
    // Another schedule has its own history.
    expect(await listChampionHistory(t.store, 'weekly')).toEqual([]);
  });

  it('a retried recordDecision is idempotent; another run recording the same seq fails as a non-retryable conflict', async () => {
    const { recordDecision } = createChampionActivities({ store: t.store });
    const env = activityEnv();
    const first = await env.run(recordDecision, { decision: decision(1, 'run-1', 'promoted', champion(1)) });
    expect(await env.run(recordDecision, { decision: decision(1, 'run-1', 'promoted', champion(1)) })).toEqual(first);
    const error = await env
      .run(recordDecision, { decision: decision(1, 'run-other', 'promoted', champion(2)) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('ChampionConflict');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as Error).message).toMatch(/recorded meanwhile by run-1/);
    expect((await listChampionHistory(t.store, 'nightly')).map((d) => d.workflowId)).toEqual(['run-1']);
  });

  it('gives equal config keys only to equal configs and code versions', () => {
    const a = smallConfig();
    expect(configKeyOf(a, 'v1')).toBe(configKeyOf(smallConfig(), 'v1'));
    expect(configKeyOf(a, 'v2')).not.toBe(configKeyOf(a, 'v1'));
    expect(configKeyOf(smallConfig({ training: { epochs: 7 } }), 'v1')).not.toBe(configKeyOf(a, 'v1'));
  });
});
