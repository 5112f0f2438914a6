import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPELINE_PROGRESS_QUERY,
  RunConfigSchema,
  STAGE_PROGRESS_SIGNAL,
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  parseConfig,
  type PipelineProgress,
  type StageProgressUpdate,
  type TrainPipelineInput,
} from '@sgfd/contracts';
import {
  bundleWorkflows,
  recordHistoryIfAsked,
  temporalTestContext,
  type TemporalTestContext,
} from './test-support/temporal';

// These tests run the real workflow on the real server with NO activity workers: they cover what the
// workflow decides on its own (validation, progress, cancellation). The full pipeline with the four
// activity workers is tested where the activities live.

const input = (overrides: Partial<TrainPipelineInput> = {}): TrainPipelineInput => ({
  runId: `run-${randomUUID()}`,
  dataset: { kind: 'synthetic', preset: 'tiny', seed: 1 },
  config: parseConfig(RunConfigSchema, { backbone: 'vbpr', training: { epochs: 10 } }),
  codeVersion: 'test',
  ...overrides,
});

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('trainPipeline on the real Temporal server', () => {
  let bundle: WorkflowBundleWithSourceMap;
  let temporal: TemporalTestContext;
  beforeAll(async () => {
    bundle = await bundleWorkflows();
    temporal = await temporalTestContext(bundle, 'wf-pipeline');
  });
  afterAll(async () => {
    await temporal?.close();
  });

  it('fails a bad config at once, non-retryable, naming the field, before any activity is scheduled', async () => {
    const bad = input({ config: { ...input().config, sgfd: { ...input().config.sgfd, tau: -1 } } });
    const { error, history } = await temporal.withWorker(async () => {
      const handle = await temporal.client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
        taskQueue: WORKFLOW_TASK_QUEUE,
        workflowId: bad.runId,
        args: [bad],
      });
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      await recordHistoryIfAsked(handle, 'rejected-config');
      return { error, history: await handle.fetchHistory() };
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('ConfigError');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect(cause!.message).toMatch(/run config.*field 'sgfd\.tau'/);
    expect(history.events!.length).toBeGreaterThan(0);
    expect(history.events!.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  });

  it('reports progress from activity signals with an ETA, and a cancelled run ends cancelled', async () => {
    const run = input();
    await temporal.withWorker(async () => {
      const handle = await temporal.client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
        taskQueue: WORKFLOW_TASK_QUEUE,
        workflowId: run.runId,
        args: [run],
      });
      const query = () => handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY);
      // No ingest worker exists in this namespace, so the run waits in the ingest stage.
      const atStart = await waitFor(query, (p) => p.stages.ingest.status === 'running');
      expect(atStart.stage).toBe('ingest');
      expect(atStart.stages.teacher.status).toBe('pending');
      expect(atStart.etaSeconds).toBeNull();

      // What a training activity sends each few seconds: epoch 2 of 10 after 20 s -> 10 s/epoch x 8 left.
      const update: StageProgressUpdate = {
        stage: 'ingest',
        epoch: 2,
        maxEpochs: 10,
        elapsedSeconds: 20,
        backend: 'wasm',
        bestValid: 0.25,
        checkpointUri: 'file:///c',
      };
      await handle.signal(STAGE_PROGRESS_SIGNAL, update);
      // A late report from a stage that is not running is ignored.
      await handle.signal(STAGE_PROGRESS_SIGNAL, { ...update, stage: 'student', epoch: 9 });
      const reported = await waitFor(query, (p) => p.etaSeconds !== null);
      expect(reported.etaSeconds).toBe(80);
      expect(reported.stages.ingest).toMatchObject({ epoch: 2, maxEpochs: 10, bestValid: 0.25 });
      expect(reported.stages.student).toMatchObject({ status: 'pending', epoch: null });

      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      const final = await query();
      expect(final.stage).toBe('cancelled');
      expect(final.stages.ingest.status).toBe('cancelled');
      expect(final.etaSeconds).toBeNull();
      await recordHistoryIfAsked(handle, 'cancelled-during-ingest');
    });
  });
});
