// Two machines simulated: two sets of worker processes, each in its own temporary working directory with
// its own local cache folder, sharing only the Temporal server and an S3 bucket (versitygw on loopback).
// The teacher trains on set A; the student starts on A, A's student worker is killed after a checkpoint,
// and set B's student resumes from the checkpoint A put in the bucket; B evaluates.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  type RunSummary,
  type TrainPipelineInput,
  type TrainingHeartbeat,
} from '@sgfd/contracts';
import { S3ArtifactStore } from '@sgfd/artifacts';
import { readTrainingRecord } from '@sgfd/activities';
import {
  createTestBucket,
  registerTestNamespace,
  s3TestServer,
  temporalTestAddress,
  useTestS3,
} from '@sgfd/tools/testing';
import { startWorker, type WorkerProcess } from './pipeline/workers';

const decodeJson = (payload: { data?: Uint8Array | null } | undefined) =>
  JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as unknown;

describe('two machines sharing only Temporal and S3', { timeout: 420_000 }, () => {
  let address: string;
  let namespace: string;
  let bucket: string;
  let client: Client;
  let connection: Connection;
  const dirs: Record<'a' | 'b' | 'reader', string> = { a: '', b: '', reader: '' };
  const workers: WorkerProcess[] = [];
  /** The workers' recent log lines, printed when the run does not finish. */
  const logs: string[] = [];

  beforeAll(async () => {
    ({ address } = temporalTestAddress());
    connection = await Connection.connect({ address });
    namespace = await registerTestNamespace(connection, 'two-machines');
    client = new Client({ connection, namespace });
    bucket = await createTestBucket('machines');
    for (const name of ['a', 'b', 'reader'] as const)
      dirs[name] = await mkdtemp(join(tmpdir(), `sgfd-machine-${name}-`));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    await Promise.all(Object.values(dirs).map((d) => d && rm(d, { recursive: true, force: true })));
  }, 60_000);

  /** A worker of `machine`: its own working directory and cache; the store is the bucket. */
  const start = async (stage: WorkerProcess['stage'], machine: 'a' | 'b') => {
    const worker = await startWorker(stage, {
      target: { address, namespace },
      artifacts: `s3://${bucket}/shared`,
      cwd: dirs[machine],
      env: { ...s3TestServer().env, SGFD_S3_CACHE_DIR: join(dirs[machine], 'cache') },
      onLog: (e) => {
        logs.push(`[${machine} ${e.stage} ${e.pid}] ${e.level} ${e.msg}`);
        if (logs.length > 60) logs.shift();
      },
    });
    workers.push(worker);
    return worker;
  };

  it('teacher on one set, student resumed on the other from the checkpoint the first set wrote', async () => {
    const [, teacherA, studentA] = await Promise.all([
      start('ingest', 'a'),
      start('teacher', 'a'),
      start('student', 'a'),
    ]);
    const evalB = await start('eval', 'b');
    const { resolveRunConfig } = await import('@sgfd/training');
    const epochs = 16;
    const input: TrainPipelineInput = {
      runId: `machines-${randomUUID().slice(0, 8)}`,
      dataset: { kind: 'synthetic', preset: 'tiny', seed: 13 },
      config: resolveRunConfig({
        backbone: 'vbpr',
        sgfd: { mode: 'two-stage', teacher: { epochs: 4, patience: 10 } },
        training: { epochs, patience: epochs, learningRate: 0.01, checkpointEvery: 2, seed: 5 },
      }),
      codeVersion: 'machines-test',
      timeouts: { student: { heartbeatTimeoutMs: 3_000 } },
    };
    const began = Date.now();
    const handle = await client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
    let killedAt: TrainingHeartbeat | undefined;
    for (const deadline = Date.now() + 120_000; !killedAt && Date.now() < deadline;) {
      const pending = (await handle.describe()).raw.pendingActivities?.find(
        (a) => a.activityType?.name === 'distillStudent',
      );
      const details = pending?.heartbeatDetails?.payloads?.[0];
      const beat = details ? (decodeJson(details) as TrainingHeartbeat) : undefined;
      if (beat?.checkpointUri && beat.epoch >= 2) killedAt = beat;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(killedAt?.checkpointUri).toMatch(new RegExp(`^s3://${bucket}/shared/\\.checkpoints/student/`));
    console.error(
      `[two machines] student checkpoint at epoch ${killedAt!.epoch} after ${(Date.now() - began) / 1000} s`,
    );
    studentA.child.kill('SIGKILL');
    expect(await studentA.exited).toBe('SIGKILL');
    // Machine A's local folders go with it: B can only have the checkpoint from the bucket.
    await rm(join(dirs.a, 'cache', 'checkpoints'), { recursive: true, force: true });
    const studentB = await start('student', 'b');

    const summary: RunSummary = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`the run did not finish; workers' last lines:\n${logs.join('\n')}`)),
          300_000,
        ).unref(),
      ),
    ]);
    console.error(`[two machines] killed at epoch ${killedAt!.epoch} after ${(Date.now() - began) / 1000} s`);
    useTestS3();
    const reader = new S3ArtifactStore({ bucket, prefix: 'shared', cacheDir: join(dirs.reader, 'cache') });
    const record = await readTrainingRecord(reader, summary.artifacts.model);
    expect(record.attempt.attempt).toBe(2);
    // The heartbeat names the checkpoint once its upload is done, so the retry resumed from the last one A
    // finished uploading: an even epoch, at most the one A had reached.
    expect(record.attempt.resumedFromEpoch).toBeGreaterThanOrEqual(2);
    expect(record.attempt.resumedFromEpoch! % 2).toBe(0);
    expect(record.attempt.resumedFromEpoch).toBeLessThanOrEqual(killedAt!.epoch);
    expect(record.attempt.trainedEpochs[0]).toBe(record.attempt.resumedFromEpoch! + 1);
    expect(record.history.map((h) => h.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    expect(summary.test['recall@20']).toBeGreaterThan(summary.popularity['recall@20']!);

    // Who ran what, from the server's history: the teacher on A, the finishing student attempt on B, eval on B.
    const events = (await handle.fetchHistory()).events!;
    const scheduled = new Map(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]),
    );
    const ranBy = (name: string) =>
      events
        .filter((e) => scheduled.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) === name)
        .map((e) => e.activityTaskStartedEventAttributes!.identity!);
    expect(ranBy('pretrainTeacher')).toEqual([expect.stringMatching(new RegExp(`^${teacherA.pid}@`))]);
    expect(ranBy('distillStudent').at(-1)).toMatch(new RegExp(`^${studentB.pid}@`));
    expect(ranBy('evaluateModel')).toEqual([expect.stringMatching(new RegExp(`^${evalB.pid}@`))]);
    // Nothing of a run stays on the bucket but its artifacts: no checkpoint left behind.
    expect(await reader.listKeys(reader.objectKey('.checkpoints'))).toEqual([]);
    expect(await readdir(join(dirs.b, 'cache', 'checkpoints'), { recursive: true }).catch(() => [])).toEqual([]);
  });
});
