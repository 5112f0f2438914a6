import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestDatasetResult, StageProgressUpdate, TrainingHeartbeat } from '@sgfd/contracts';
import { initBackend } from '@sgfd/tensor';
import { createIngestActivities } from './ingest';
import { createStudentActivities, readTrainingRecord } from './student';
import { createTeacherActivities } from './teacher';
import { SMALL_DATASET, activityEnv, smallConfig, tempStore, type TempStore } from './test-support/fixtures';

describe('training activities', () => {
  let t: TempStore;
  let ingest: IngestDatasetResult;
  const base = { runId: 'run-1', codeVersion: 'test' };

  beforeAll(async () => {
    await initBackend();
    t = await tempStore();
    ingest = await activityEnv().run(createIngestActivities({ store: t.store }).ingestDataset, {
      ...base,
      dataset: SMALL_DATASET,
    });
  });
  afterAll(async () => {
    await t.remove();
  });
  const stageInput = () => ({ ...base, snapshot: ingest.snapshot, datasetId: ingest.datasetId });
  const checkpointFiles = async () => (await t.leftovers()).filter((f) => f.startsWith('.checkpoints/'));

  it('pretrains the teacher heartbeating {epoch, bestValid, checkpointUri} every epoch; another backbone reuses it', async () => {
    const { pretrainTeacher } = createTeacherActivities({ store: t.store });
    const env = activityEnv();
    const beats: TrainingHeartbeat[] = [];
    env.on('heartbeat', (d: TrainingHeartbeat) => beats.push(d));
    const result = await env.run(pretrainTeacher, {
      ...stageInput(),
      config: smallConfig({ sgfd: { mode: 'two-stage' } }),
    });
    expect(result).toMatchObject({ reused: false, epochsTrained: 4, resumedFromEpoch: null });
    expect(result.bestValid).toBeGreaterThan(1 / 5); // category accuracy above chance (5 categories)
    const epochs = [...new Set(beats.map((b) => b.epoch))];
    expect(epochs).toEqual([0, 1, 2, 3, 4]);
    const last = beats.at(-1)!;
    expect(last.bestValid).toBeCloseTo(result.bestValid, 6);
    expect(last.checkpointUri).toMatch(/^file:\/\/.*\.checkpoints\/teacher\//);
    // Finished: the checkpoint is gone, the teacher artifact is there.
    expect(existsSync(fileURLToPath(last.checkpointUri!))).toBe(false);
    expect(await checkpointFiles()).toEqual([]);

    const again = await activityEnv().run(pretrainTeacher, {
      ...stageInput(),
      runId: 'run-2',
      config: smallConfig({
        backbone: 'vbpr',
        sgfd: { mode: 'two-stage', kdWeight: 0.1 },
        training: { learningRate: 0.02 },
      }),
    });
    expect(again).toEqual({ ...result, reused: true });
  });

  it('a retried student resumes from the checkpoint its predecessor heartbeated and ends exactly as an uninterrupted run', async () => {
    const config = smallConfig({ sgfd: { mode: 'off' } });
    const { distillStudent } = createStudentActivities({ store: t.store });
    const first = activityEnv();
    let lastBeat: TrainingHeartbeat | undefined;
    first.on('heartbeat', (d: TrainingHeartbeat) => {
      lastBeat = d;
      // The worker goes away during epoch 5, after the epoch-4 checkpoint.
      if (d.epoch >= 4 && d.checkpointUri && !first.context.cancellationSignal.aborted) {
        setImmediate(() => first.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true })));
      }
    });
    const input = { ...stageInput(), teacher: null, config };
    await expect(first.run(distillStudent, input)).rejects.toBeInstanceOf(CancelledFailure);
    expect(lastBeat!.epoch).toBeGreaterThanOrEqual(4);
    expect(existsSync(fileURLToPath(lastBeat!.checkpointUri!))).toBe(true);
    expect(await t.store.list('model/')).toEqual([]);

    const retry = activityEnv({ attempt: 2, heartbeatDetails: lastBeat });
    const resumed = await retry.run(distillStudent, input);
    expect(resumed.resumedFromEpoch).toBe(4);
    const record = await readTrainingRecord(t.store, resumed.model);
    expect(record.attempt).toEqual({ attempt: 2, resumedFromEpoch: 4, trainedEpochs: [5, 6] });
    expect(record.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await checkpointFiles()).toEqual([]);

    const other = await tempStore();
    try {
      const ingested = await activityEnv().run(createIngestActivities({ store: other.store }).ingestDataset, {
        ...base,
        dataset: SMALL_DATASET,
      });
      const straight = await activityEnv().run(createStudentActivities({ store: other.store }).distillStudent, {
        ...input,
        snapshot: ingested.snapshot,
      });
      const straightRecord = await readTrainingRecord(other.store, straight.model);
      expect(straightRecord.attempt).toEqual({ attempt: 1, resumedFromEpoch: null, trainedEpochs: [1, 2, 3, 4, 5, 6] });
      expect(record.test).toEqual(straightRecord.test);
      expect(record.valid).toEqual(straightRecord.valid);
    } finally {
      await other.remove();
    }
  });

  it('a cancelled student stops within the epoch and leaves neither model nor checkpoint', async () => {
    const { distillStudent } = createStudentActivities({ store: t.store });
    const env = activityEnv();
    let cancelledAt = 0;
    let lastBeat: TrainingHeartbeat | undefined;
    env.on('heartbeat', (d: TrainingHeartbeat) => {
      lastBeat = d;
      if (d.epoch >= 3 && !cancelledAt) {
        cancelledAt = d.epoch;
        setImmediate(() => env.cancel());
      }
    });
    const config = smallConfig({ sgfd: { mode: 'off' }, training: { epochs: 40, seed: 11 } });
    await expect(env.run(distillStudent, { ...stageInput(), teacher: null, config })).rejects.toBeInstanceOf(
      CancelledFailure,
    );
    expect(lastBeat!.epoch).toBeLessThanOrEqual(cancelledAt + 1);
    const models = await t.store.list('model/');
    const records = await Promise.all(models.map((m) => readTrainingRecord(t.store, m)));
    expect(records.map((r) => r.run.seed)).not.toContain(11);
    expect(await checkpointFiles()).toEqual([]);
  });

  it('distils a two-stage student from the teacher artifact, reporting progress to the workflow', async () => {
    const config = smallConfig({ sgfd: { mode: 'two-stage' } });
    const updates: StageProgressUpdate[] = [];
    const targets = new Set<string>();
    const progress = async (target: { workflowId: string; runId: string }, update: StageProgressUpdate) => {
      targets.add(`${target.workflowId}/${target.runId}`);
      updates.push(update);
    };
    const teacher = await activityEnv().run(createTeacherActivities({ store: t.store, progress }).pretrainTeacher, {
      ...stageInput(),
      config,
    });
    expect(teacher.reused).toBe(true);
    const student = await activityEnv().run(
      createStudentActivities({ store: t.store, progress, progressIntervalMs: 0 }).distillStudent,
      {
        ...stageInput(),
        teacher: teacher.teacher,
        config,
      },
    );
    expect(student.reused).toBe(false);
    expect(targets).toEqual(new Set(['wf-test/run-test']));
    expect(updates.map((u) => u.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(updates.every((u) => u.stage === 'student' && u.maxEpochs === 6)).toBe(true);
    expect(updates.at(-1)!.bestValid).toBeCloseTo(student.bestValid, 6);
    const record = await readTrainingRecord(t.store, student.model);
    expect(record).toMatchObject({
      sgfd: 'two-stage',
      run: { datasetId: ingest.datasetId, seed: 3, codeVersion: 'test' },
    });
    expect(Object.keys(record.history[0]!.loss)).toEqual(expect.arrayContaining(['total']));
  });

  it('fails a student whose teacher was made for another configuration, non-retryably naming the field', async () => {
    const teacherConfig = smallConfig({ sgfd: { mode: 'two-stage' } });
    const teacher = await activityEnv().run(createTeacherActivities({ store: t.store }).pretrainTeacher, {
      ...stageInput(),
      config: teacherConfig,
    });
    const mismatched = smallConfig({ sgfd: { mode: 'two-stage', latentDim: 32 } });
    const error = await activityEnv()
      .run(createStudentActivities({ store: t.store }).distillStudent, {
        ...stageInput(),
        teacher: teacher.teacher,
        config: mismatched,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ nonRetryable: true, type: 'ConfigError' });
    expect((error as Error).message).toMatch(/made for another dataset or configuration.*sgfd\.latentDim/);
    expect(await checkpointFiles()).toEqual([]);
  });
});
