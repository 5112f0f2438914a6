// Scheduled retraining end to end on the run's real Temporal server, driven through `sgfd schedule ...`: a
// Temporal Schedule starts scheduledRetrain, whose training runs on the four worker apps (real child
// processes) and whose champion decisions land in the artifact store.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChampionDecision, ChampionRecord } from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import { registerTestNamespace, temporalTestAddress } from '@sgfd/tools/testing';
import { runCliCapturing } from '../test-support/run-in-process';
import { startWorkers, type WorkerGroup } from '../pipeline/workers';
import * as schedule from './schedule';

const sgfd = (...argv: string[]) => runCliCapturing([schedule], argv);

// Loaded lazily, as the CLI loads it.
const { exportMmrec, generateSynthetic } = await import('@sgfd/data');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduled retraining through the four worker apps on the real server', { timeout: 120_000 }, () => {
  let connection: Connection;
  let client: Client;
  let address: string;
  let namespace: string;
  let work: string;
  let artifacts: string;
  let source: string;
  let store: FileArtifactStore;
  let workers: WorkerGroup;
  const id = `shop-${randomUUID().slice(0, 6)}`;
  const flags = () => ['--address', address, '--namespace', namespace];
  const training = ['--backbone', 'vbpr', '--sgfd', 'off', '--seed', '1'];

  async function cli(...argv: string[]): Promise<string> {
    const r = await sgfd(...argv);
    if (r.code !== 0) throw new Error(`sgfd ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }
  const json = async <T>(...argv: string[]): Promise<T> => JSON.parse(await cli('--json', ...argv)) as T;
  const history = () => json<ChampionDecision[]>('schedule', 'history', id, '--artifacts', artifacts);
  const writeSource = async (seed: number) => {
    const fresh = join(work, `shop-${seed}`);
    await exportMmrec(generateSynthetic({ preset: 'tiny', seed }), { out: fresh, name: 'shop' });
    await rm(source, { recursive: true, force: true });
    await rename(fresh, source);
  };

  /** Triggers the schedule through the CLI and returns the decision of the run it started. */
  async function triggerAndWait(scheduleId = id): Promise<ChampionDecision> {
    const handle = client.schedule.getHandle(scheduleId);
    const before = (await handle.describe()).info.numActionsTaken;
    await cli('schedule', 'trigger', scheduleId, ...flags());
    for (;;) {
      const d = await handle.describe();
      if (d.info.numActionsTaken > before) {
        const started = d.info.recentActions.at(-1)!.action.workflow;
        return (await client.workflow
          .getHandle(started.workflowId, started.firstExecutionRunId)
          .result()) as ChampionDecision;
      }
      await sleep(200);
    }
  }

  beforeAll(async () => {
    ({ address } = temporalTestAddress());
    connection = await Connection.connect({ address });
    namespace = await registerTestNamespace(connection, 'cli-schedule');
    client = new Client({ connection, namespace });
    work = await mkdtemp(join(tmpdir(), 'sgfd-schedule-'));
    artifacts = join(work, 'artifacts');
    store = new FileArtifactStore(artifacts);
    source = join(work, 'shop');
    await writeSource(1);
    workers = await startWorkers({ target: { address, namespace }, artifacts });
  }, 180_000);
  afterAll(async () => {
    await workers?.stop();
    await connection?.close();
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  let champion: ChampionRecord;

  it('creates a schedule with overlap SKIP, a catch-up window and pause-on-failure by default', async () => {
    await cli(
      'schedule',
      'create',
      '--id',
      id,
      '--every',
      '1d',
      '--source',
      source,
      ...training,
      '--epochs',
      '6',
      ...flags(),
    );
    const d = await json<{
      policies: { overlap: string; catchupWindow: number; pauseOnFailure: boolean };
      state: { paused: boolean };
      action: { workflowType: string };
    }>('schedule', 'describe', id, '--artifacts', artifacts, ...flags());
    expect(d.policies).toEqual({ overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: true });
    expect(d.state.paused).toBe(false);
    expect(d.action.workflowType).toBe('scheduledRetrain');
    expect((await json<{ scheduleId: string }[]>('schedule', 'list', ...flags())).map((s) => s.scheduleId)).toContain(
      id,
    );
  });

  it('trigger: re-ingests, trains, and the first model becomes champion (recorded in the artifact store)', async () => {
    const decision = await triggerAndWait();
    expect(decision).toMatchObject({ seq: 1, outcome: 'promoted', championScore: null });
    champion = decision.champion!;
    expect(champion.model).toEqual(decision.challenger!.model);
    expect(await store.exists(champion.model)).toBe(true);
    expect(champion.metrics.valid['recall@20']).toBe(decision.challenger!.valid);
    expect((await history()).map((d) => d.outcome)).toEqual(['promoted']);
    const described = await json<{ champion: ChampionRecord }>(
      'schedule',
      'describe',
      id,
      '--artifacts',
      artifacts,
      ...flags(),
    );
    expect(described.champion.model).toEqual(champion.model);
  });

  it('trigger again with unchanged data and config: a no-op, nothing trained', async () => {
    const decision = await triggerAndWait();
    expect(decision).toMatchObject({ seq: 2, outcome: 'no-op', challenger: null, datasetId: champion.datasetId });
    expect(decision.reason).toMatch(/unchanged/);
    expect(decision.champion).toEqual(champion);
    expect(
      await client.workflow
        .getHandle(`${decision.workflowId}/train`)
        .describe()
        .catch(() => null),
    ).toBeNull();
  });

  it('changed source data: a new snapshot, a new run, and the champion re-scored on the new snapshot decides', async () => {
    await writeSource(2);
    const decision = await triggerAndWait();
    expect(decision.seq).toBe(3);
    expect(decision.outcome).not.toBe('no-op');
    expect(decision.datasetId).not.toBe(champion.datasetId);
    expect(decision.challenger!.model).not.toEqual(champion.model);
    // Same users and items, so the old champion could be scored on the new validation split.
    expect(decision.championScore).not.toBeNull();
    const promoted = decision.challenger!.valid > decision.championScore!;
    expect(decision.outcome).toBe(promoted ? 'promoted' : 'kept');
    expect(decision.champion!.model).toEqual(promoted ? decision.challenger!.model : champion.model);
    champion = decision.champion!;
  });

  it('a worse challenger (a schedule re-created with a poor config) does not replace the champion', async () => {
    await cli('schedule', 'delete', id, ...flags());
    const poor = join(work, 'poor.json');
    await writeFile(poor, JSON.stringify({ training: { learningRate: 1e-7 } }));
    await cli(
      'schedule',
      'create',
      '--id',
      id,
      '--every',
      '1d',
      '--source',
      source,
      ...training,
      '--epochs',
      '1',
      '--config',
      poor,
      ...flags(),
    );
    const decision = await triggerAndWait();
    expect(decision).toMatchObject({ seq: 4, outcome: 'kept' });
    expect(decision.challenger!.valid).toBeLessThan(decision.championScore!);
    expect(decision.champion).toEqual(champion);
    const listed = await history();
    expect(listed.map((d) => d.outcome)).toEqual(['promoted', 'no-op', listed[2]!.outcome, 'kept']);
    const text = await cli('schedule', 'history', id, '--artifacts', artifacts);
    expect(text).toMatch(/#4 .* kept +challenger \d\.\d{4} <= champion \d\.\d{4} on valid recall@20/);
  });

  it('a paused schedule does not fire; unpaused, the same schedule does', async () => {
    const every = `paused-${id}`;
    await cli(
      'schedule',
      'create',
      '--id',
      every,
      '--every',
      '2s',
      '--paused',
      '--source',
      source,
      ...training,
      '--epochs',
      '6',
      ...flags(),
    );
    const handle = client.schedule.getHandle(every);
    await sleep(6_000);
    const paused = await handle.describe();
    expect(paused.state.paused).toBe(true);
    expect(paused.info.numActionsTaken).toBe(0);
    expect(paused.info.recentActions).toEqual([]);

    await cli('schedule', 'unpause', every, ...flags());
    let fired = await handle.describe();
    for (let i = 0; i < 100 && fired.info.numActionsTaken === 0; i++) {
      await sleep(200);
      fired = await handle.describe();
    }
    expect(fired.info.numActionsTaken).toBeGreaterThan(0);
    await cli('schedule', 'pause', every, '--note', 'test done', ...flags());
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'test done' });
    // Let the run it started finish before the workers stop.
    const started = fired.info.recentActions[0]!.action.workflow;
    const first = (await client.workflow
      .getHandle(started.workflowId, started.firstExecutionRunId)
      .result()) as ChampionDecision;
    expect(first).toMatchObject({ scheduleId: every, seq: 1, outcome: 'promoted' });
    for (const running of (await handle.describe()).info.runningActions)
      await client.workflow.getHandle(running.workflow.workflowId).result();
    await cli('schedule', 'delete', every, ...flags());
    expect((await sgfd('schedule', 'describe', every, ...flags())).stderr).toMatch(/No schedule/);
  });

  it('a failed run (its source gone) pauses the schedule, with the error for the user', async () => {
    const fragile = `fragile-${id}`;
    const folder = join(work, 'fragile');
    await exportMmrec(generateSynthetic({ preset: 'tiny', seed: 3 }), { out: folder, name: 'shop' });
    await cli('schedule', 'create', '--id', fragile, '--every', '1d', '--source', folder, ...training, ...flags());
    await rm(folder, { recursive: true });
    const error = await triggerAndWait(fragile).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    let cause = error as Error;
    while (cause.cause instanceof Error) cause = cause.cause;
    expect(cause.message).toMatch(/Dataset not found: no MMRec dataset folder at .*fragile/);
    let state = (await client.schedule.getHandle(fragile).describe()).state;
    for (let i = 0; i < 50 && !state.paused; i++) {
      await sleep(200);
      state = (await client.schedule.getHandle(fragile).describe()).state;
    }
    expect(state.paused).toBe(true);
    const described = await cli('schedule', 'describe', fragile, '--artifacts', artifacts, ...flags());
    expect(described).toMatch(/state +paused \(paused due to workflow failure/);
    expect(described).toMatch(/last run failed +retrain-fragile-.*: Dataset not found: no MMRec dataset folder at/);
    await cli('schedule', 'delete', fragile, ...flags());
  });
});
