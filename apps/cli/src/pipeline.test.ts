// The pipeline end to end on the run's real Temporal server, through the five worker apps running as real
// child processes (as `sgfd dev` runs them): results, idempotence, a killed worker, bad input, cancellation,
// and the recorded history the workflows' replay test replays.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPELINE_PROGRESS_QUERY,
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  type DatasetSpec,
  type PipelineProgress,
  type RunConfigInput,
  type RunSummary,
  type TrainPipelineInput,
  type TrainingHeartbeat,
} from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import { EVALUATION_FILES, readTrainingRecord } from '@sgfd/activities';
import { REPO_ROOT } from '@sgfd/tools';
import { registerTestNamespace, temporalTestAddress } from '@sgfd/tools/testing';
import { datasetSpecFor } from './pipeline/run-input';
import { startWorker, startWorkers, type WorkerGroup, type WorkerProcess } from './pipeline/workers';

const History = proto.temporal.api.history.v1.History;
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'sgfd.mjs');
const TINY: DatasetSpec = { kind: 'synthetic', preset: 'tiny', seed: 11 };
// Short heartbeat timeouts: a killed worker is noticed within seconds.
const TIMEOUTS: TrainPipelineInput['timeouts'] = {
  ingest: { heartbeatTimeoutMs: 10_000 },
  teacher: { heartbeatTimeoutMs: 5_000 },
  student: { heartbeatTimeoutMs: 3_000 },
  eval: { heartbeatTimeoutMs: 10_000 },
};

// Loaded as the CLI loads them (lazily), so the import rules of the project hold in its tests too.
const loadData = () => import('@sgfd/data');
const loadTraining = () => import('@sgfd/training');

async function pipelineInput(config: RunConfigInput, dataset: DatasetSpec = TINY): Promise<TrainPipelineInput> {
  const { resolveRunConfig } = await loadTraining();
  return {
    runId: `e2e-${randomUUID().slice(0, 8)}`,
    dataset,
    config: resolveRunConfig(config),
    codeVersion: 'e2e-test',
    timeouts: TIMEOUTS,
  };
}

const twoStage: RunConfigInput = {
  backbone: 'vbpr',
  sgfd: { mode: 'two-stage', teacher: { epochs: 4, patience: 10 } },
  training: { epochs: 8, patience: 20, learningRate: 0.01, checkpointEvery: 2, seed: 5 },
};

async function registerNamespace(address: string): Promise<string> {
  const connection = await Connection.connect({ address });
  try {
    return await registerTestNamespace(connection, 'cli-e2e');
  } finally {
    await connection.close();
  }
}

/** With SGFD_RECORD_HISTORIES=1, saves the run's history as a replay fixture of the workflows project. */
async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env['SGFD_RECORD_HISTORIES']) return;
  const file = join(REPO_ROOT, 'workflows', 'src', 'histories', `${name}.binpb`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, History.encode(await handle.fetchHistory()).finish());
  await rename(`${file}.tmp`, file);
}

function sgfd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

const decodeJson = (payload: { data?: Uint8Array | null } | undefined) =>
  JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as unknown;

describe('the pipeline through four worker processes on the real server', { timeout: 180_000 }, () => {
  let address: string;
  let namespace: string;
  let artifacts: string;
  let store: FileArtifactStore;
  let workers: WorkerGroup;
  const extra: WorkerProcess[] = [];
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    ({ address } = temporalTestAddress());
    namespace = await registerNamespace(address);
    artifacts = await mkdtemp(join(tmpdir(), 'sgfd-e2e-'));
    store = new FileArtifactStore(artifacts);
    // Five processes loading tsx, Temporal and tfjs at once: on a busy 2-core machine that took 107 s.
    workers = await startWorkers({ target: { address, namespace }, artifacts, readyTimeoutMs: 280_000 });
    connection = await Connection.connect({ address });
    client = new Client({ connection, namespace });
  }, 300_000);
  afterAll(async () => {
    await Promise.all(extra.map((w) => w.stop()));
    await workers?.stop();
    await connection?.close();
    await rm(artifacts, { recursive: true, force: true });
  }, 60_000);

  const start = (input: TrainPipelineInput) =>
    client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
  const staging = async () => readdir(join(artifacts, '.staging')).catch(() => []);
  const checkpoints = async () => readdir(join(artifacts, '.checkpoints'), { recursive: true }).catch(() => []);
  let firstRun: { input: TrainPipelineInput; summary: RunSummary };

  it('trains tiny end to end; the returned metrics are those of the evaluation artifact and beat popularity', async () => {
    const input = await pipelineInput(twoStage);
    const handle = await start(input);
    const summary: RunSummary = await handle.result();
    firstRun = { input, summary };
    const written = JSON.parse(
      new TextDecoder().decode(await store.get(summary.artifacts.evaluation, EVALUATION_FILES.metrics)),
    );
    expect(written).toEqual({ test: summary.test, valid: summary.valid, popularity: summary.popularity });
    expect(summary.test['recall@20']).toBeGreaterThan(summary.popularity['recall@20']! * 1.1);
    expect(summary.test['ndcg@20']).toBeGreaterThan(summary.popularity['ndcg@20']!);
    expect(summary.reused).toEqual({ extract: false, ingest: false, teacher: false, student: false, eval: false });
    expect(summary.artifacts.teacher).not.toBeNull();
    const progress = await handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY);
    expect(progress.stage).toBe('done');
    expect(Object.values(progress.stages).map((s) => s.status)).toEqual(['skipped', 'done', 'done', 'done', 'done']);
    expect(progress.stages.student).toMatchObject({
      epoch: 8,
      maxEpochs: 8,
      backend: expect.stringMatching(/^(tensorflow-gpu|tensorflow|wasm|cpu)$/),
    });
    expect(await checkpoints()).toEqual([]);
    await recordHistoryIfAsked(handle, 'full-pipeline-two-stage');
  });

  it('reuses the ingest and teacher artifacts for a run that shares them, and everything for the same run again', async () => {
    const otherStudent = await pipelineInput({ ...twoStage, training: { ...twoStage.training, epochs: 4 } });
    const partly: RunSummary = await (await start(otherStudent)).result();
    expect(partly.reused).toEqual({ extract: false, ingest: true, teacher: true, student: false, eval: false });
    expect(partly.artifacts.snapshot).toEqual(firstRun.summary.artifacts.snapshot);
    expect(partly.artifacts.teacher).toEqual(firstRun.summary.artifacts.teacher);

    const again: RunSummary = await (
      await start({ ...firstRun.input, runId: `e2e-${randomUUID().slice(0, 8)}` })
    ).result();
    expect(again.reused).toEqual({ extract: false, ingest: true, teacher: true, student: true, eval: true });
    expect(again.artifacts).toEqual(firstRun.summary.artifacts);
    expect(again.test).toEqual(firstRun.summary.test);
  });

  it('the CLI reads the results and status of a finished run, and names an unknown one in one line', async () => {
    const flags = ['--address', address, '--namespace', namespace];
    const results = await sgfd('results', firstRun.input.runId, '--json', ...flags);
    expect(results.code, results.stderr).toBe(0);
    expect((JSON.parse(results.stdout) as RunSummary).test).toEqual(firstRun.summary.test);
    const table = await sgfd('results', firstRun.input.runId, ...flags);
    expect(table.stdout).toMatch(/recall \(popularity\)\s+0\.\d{4}/);
    expect(table.stdout).toContain(join(fileURLToPath(firstRun.summary.artifacts.evaluation.uri), 'report.md'));
    const status = await sgfd('status', firstRun.input.runId, ...flags);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/COMPLETED/);
    expect(status.stdout).toMatch(/student\s+done\s+epoch 8\/8/);
    const unknown = await sgfd('results', 'no-such-run', ...flags);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(
      `error: No run 'no-such-run' on Temporal at ${address} (namespace ${namespace}); \`sgfd status\` lists the latest runs`,
    );
  });

  it('a student worker killed mid-training, then its replacement stopped with SIGTERM: the run resumes from the last checkpoint each time', async () => {
    // Enough epochs that attempt 2 is still training when its worker has started the third and drained (~5 s).
    const epochs = 100;
    const input = await pipelineInput({
      backbone: 'vbpr',
      sgfd: { mode: 'off' },
      training: { epochs, patience: 100, learningRate: 0.01, checkpointEvery: 2, seed: 6 },
    });
    const handle = await start(input);
    /** The running student attempt's last heartbeat as the server has it, once it shows a checkpoint at `minEpoch` or later. */
    const heartbeatAt = async (attempt: number, minEpoch: number): Promise<TrainingHeartbeat> => {
      for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
        const pending = (await handle.describe()).raw.pendingActivities?.find(
          (a) => a.activityType?.name === 'distillStudent',
        );
        const details = pending?.heartbeatDetails?.payloads?.[0];
        const beat = details && pending.attempt === attempt ? (decodeJson(details) as TrainingHeartbeat) : undefined;
        if (beat?.checkpointUri && beat.epoch >= minEpoch) return beat;
      }
      throw new Error(`no heartbeat of attempt ${attempt} at epoch ${minEpoch} or later`);
    };

    const killedAt = await heartbeatAt(1, 4);
    const first = workers.workers.find((w) => w.stage === 'student')!;
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const second = await startWorker('student', { target: { address, namespace }, artifacts });
    // The server notices the dead worker by the missing heartbeat (3 s here) and retries on the new one.
    const stoppedAt = await heartbeatAt(2, killedAt.epoch + 2);
    const third = await startWorker('student', { target: { address, namespace }, artifacts });
    extra.push(third);
    // Graceful: the worker drains for 2 s, then cancels its training, which fails retryably at once.
    expect(await second.stop()).toBe(0);

    const summary: RunSummary = await handle.result();
    const record = await readTrainingRecord(store, summary.artifacts.model);
    // Each retry continued from a checkpoint at least as recent as the one heartbeated before its predecessor
    // stopped, so no epoch before it was trained again.
    expect(record.attempt.attempt).toBe(3);
    expect(record.attempt.resumedFromEpoch).toBeGreaterThanOrEqual(
      Math.max(2, Math.floor(stoppedAt.epoch / 2) * 2 - 2),
    );
    expect(record.attempt.trainedEpochs[0]).toBe(record.attempt.resumedFromEpoch! + 1);
    expect(record.attempt.trainedEpochs.at(-1)).toBe(epochs);
    expect(record.history.map((h) => h.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    const history = await handle.fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes?.attempt === 3);
    expect(started.length).toBe(1);
    expect(await checkpoints()).toEqual([]);
  });

  it('fails a nonexistent dataset and a corrupt feature file quickly, non-retryably, naming the file, storing nothing', async () => {
    const before = await store.list();
    const missing = join(artifacts, 'no-such-snapshot');
    const source = await mkdtemp(join(tmpdir(), 'sgfd-e2e-mmrec-'));
    try {
      const { exportMmrec, generateSynthetic } = await loadData();
      const mmrec = await exportMmrec(generateSynthetic({ preset: 'tiny', seed: 3, imageDim: 16, textDim: 8 }), {
        out: join(source, 'tiny'),
      });
      const featureFile = join(mmrec.dir, 'image_feat.npy');
      await writeFile(featureFile, (await readFile(featureFile)).subarray(0, 100));
      for (const [dataset, file] of [
        [{ kind: 'snapshot', path: missing }, missing],
        [{ kind: 'mmrec', dir: mmrec.dir }, featureFile],
      ] as const) {
        const began = Date.now();
        const handle = await start(await pipelineInput(twoStage, dataset));
        const error = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(Date.now() - began).toBeLessThan(15_000);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        const cause = (error as WorkflowFailedError).cause?.cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect(cause).toMatchObject({ type: 'DatasetError', nonRetryable: true });
        expect((cause as ApplicationFailure).message).toContain(file);
        const attempts = (await handle.fetchHistory()).events!.filter((e) => e.activityTaskStartedEventAttributes);
        expect(attempts.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
      }
      expect(await store.list()).toEqual(before);
      expect(await staging()).toEqual([]);
    } finally {
      await rm(source, { recursive: true, force: true });
    }
  });

  it('sgfd cancel stops a training run promptly and leaves no model, checkpoint or staging behind', async () => {
    const input = await pipelineInput({
      backbone: 'vbpr',
      sgfd: { mode: 'off' },
      training: { epochs: 500, patience: 500, learningRate: 0.01, checkpointEvery: 2, seed: 9 },
    });
    const handle = await start(input);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const p = await handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY);
      if ((p.stages.student.epoch ?? 0) >= 3) break;
    }
    const models = await store.list('model/');
    const began = Date.now();
    const cancelled = await sgfd('cancel', input.runId, '--address', address, '--namespace', namespace);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`${input.runId}: CANCELLED`);
    expect(Date.now() - began).toBeLessThan(20_000);
    expect((await handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY)).stages.student.status).toBe('cancelled');
    expect(await store.list('model/')).toEqual(models);
    expect(await checkpoints()).toEqual([]);
    expect(await staging()).toEqual([]);
  });

  it('a raw catalogue (string ids, English titles, drawn PNGs) goes extract -> ingest -> VBPR + SGFD -> recommendations with its own ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sgfd-raw-e2e-'));
    try {
      const { writeDemoCatalogue } = await import('@sgfd/extract');
      const files = await writeDemoCatalogue(dir, { size: 'tiny', seed: 7 });
      const dataset = await datasetSpecFor(dir);
      expect(dataset).toMatchObject({ kind: 'raw', items: files.items, image: { model: files.imageModel } });
      const input = await pipelineInput(twoStage, dataset);
      const snapshotsBefore = await store.list('snapshot/');
      const handle = await start(input);
      const summary: RunSummary = await handle.result();
      expect(summary.reused).toMatchObject({ extract: false, ingest: false });
      // Extraction stores the run's snapshot, once: no ingest activity copies it into a second artifact.
      const snapshots = await store.list('snapshot/');
      expect(snapshots.filter((r) => !snapshotsBefore.some((b) => b.uri === r.uri))).toEqual([
        summary.artifacts.snapshot,
      ]);
      const scheduled = (await handle.fetchHistory()).events!.flatMap(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
      );
      expect(scheduled).toEqual(['extractFeatures', 'pretrainTeacher', 'distillStudent', 'evaluateModel']);
      expect(await store.list('features/')).not.toEqual([]);
      const progress = await handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY);
      expect(progress.stages.extract.status).toBe('done');
      expect(progress.stages.extract.maxEpochs).toBe(300);
      expect(summary.test['recall@20']).toBeGreaterThan(summary.popularity['recall@20']!);

      const { decodeParquet } = await loadData();
      const recs = decodeParquet(
        await store.get(summary.artifacts.evaluation, EVALUATION_FILES.recommendations),
        'recommendations.parquet',
      );
      const users = new Set(files.userIds);
      const items = new Set(files.itemIds);
      expect(recs.numRows).toBeGreaterThan(0);
      for (const id of recs.getChild('user_id')!) expect(users.has(String(id))).toBe(true);
      for (const id of recs.getChild('item_id')!) expect(items.has(String(id))).toBe(true);

      const flags = ['--address', address, '--namespace', namespace];
      const results = await sgfd('results', input.runId, ...flags);
      expect(results.code, results.stderr).toBe(0);
      expect(results.stdout).toContain('top recommendations (ids of the source):');
      expect(results.stdout).toMatch(/\n {2}A\w+: B0\w+, B0\w+/);

      // The same catalogue again reuses the extracted snapshot: nothing is encoded.
      const again: RunSummary = await (await start({ ...input, runId: `e2e-${randomUUID().slice(0, 8)}` })).result();
      expect(again.reused).toEqual({ extract: true, ingest: true, teacher: true, student: true, eval: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every worker stops gracefully on SIGTERM: it drains and exits 0', async () => {
    const alive = [...workers.workers, ...extra].filter(
      (w) => w.child.exitCode === null && w.child.signalCode === null,
    );
    expect(alive.map((w) => w.stage).sort()).toEqual(['eval', 'extract', 'ingest', 'student', 'teacher']);
    expect(await Promise.all(alive.map((w) => w.stop()))).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('sgfd run input checks (before any connection)', () => {
  it('rejects a dataset that does not exist, a missing backbone and a bad config field, each in one line', async () => {
    const missing = await sgfd('run', '--dataset', '/nonexistent/data', '--backbone', 'vbpr');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(
      /^error: No dataset '\/nonexistent\/data' \(field '--dataset': expected a preset \(tiny, office, baby\).*found nothing at \/nonexistent\/data\)$/,
    );
    const noBackbone = await sgfd('run', '--dataset', 'tiny');
    expect(noBackbone.code).toBe(1);
    expect(noBackbone.stderr).toMatch(/Which backbone\? Pass --backbone/);
    const dir = await mkdtemp(join(tmpdir(), 'sgfd-cli-config-'));
    try {
      await writeFile(join(dir, 'run.json'), JSON.stringify({ backbone: 'vbpr', sgfd: { tau: -1 } }));
      const bad = await sgfd('run', '--dataset', 'tiny', '--config', join(dir, 'run.json'));
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/field 'sgfd\.tau'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sgfd without a server', () => {
  it('says in one line that Temporal cannot be reached, without a stack trace', async () => {
    const result = await sgfd('status', '--address', '127.0.0.1:1');
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: Cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default, from flag\)/);
  });
});
