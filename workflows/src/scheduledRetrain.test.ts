import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RETRAIN_PROGRESS_QUERY,
  RunConfigSchema,
  SCHEDULED_RETRAIN_WORKFLOW,
  TASK_QUEUES,
  WORKFLOW_TASK_QUEUE,
  parseConfig,
  type RetrainProgress,
  type ScheduledRetrainInput,
} from '@sgfd/contracts';
import {
  bundleWorkflows,
  recordHistoryIfAsked,
  temporalTestContext,
  type TemporalTestContext,
} from './test-support/temporal';

// What scheduledRetrain decides on its own, on the real server with no activity workers. The decisions
// (no-op, promoted, kept) with the real activities are tested through `sgfd schedule` in apps/cli.

const input = (overrides: Partial<ScheduledRetrainInput> = {}): ScheduledRetrainInput => ({
  scheduleId: 'nightly',
  dataset: { kind: 'synthetic', preset: 'tiny', seed: 1 },
  config: parseConfig(RunConfigSchema, { backbone: 'vbpr', sgfd: { mode: 'off' } }),
  codeVersion: 'test',
  ...overrides,
});

describe('scheduledRetrain on the real Temporal server', () => {
  let bundle: WorkflowBundleWithSourceMap;
  let temporal: TemporalTestContext;
  beforeAll(async () => {
    bundle = await bundleWorkflows();
    temporal = await temporalTestContext(bundle, 'wf-retrain');
  });
  afterAll(async () => {
    await temporal?.close();
  });

  const start = (i: ScheduledRetrainInput) =>
    temporal.client.workflow.start(SCHEDULED_RETRAIN_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: `retrain-${randomUUID()}`,
      args: [i],
    });

  it('fails a bad config at once, non-retryable, naming the field, before ingesting', async () => {
    const bad = input();
    bad.config = { ...bad.config, training: { ...bad.config.training, epochs: 0 } };
    const { error, history } = await temporal.withWorker(async () => {
      const handle = await start(bad);
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      return { error, history: await handle.fetchHistory() };
    });
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('ConfigError');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/field 'training\.epochs'/);
    expect(history.events!.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  });

  it('re-ingests first (progress says so), and a cancelled run ends cancelled', async () => {
    await temporal.withWorker(async () => {
      const handle = await start(input());
      let progress: RetrainProgress | undefined;
      for (let i = 0; i < 100 && progress?.step !== 'ingest'; i++) {
        progress = await handle.query<RetrainProgress>(RETRAIN_PROGRESS_QUERY).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(progress).toEqual({ scheduleId: 'nightly', step: 'ingest', trainWorkflowId: null, outcome: null });
      const history = await handle.fetchHistory();
      expect(
        history.events!.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes
          ?.activityType?.name,
      ).toBe('ingestDataset');
      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.query<RetrainProgress>(RETRAIN_PROGRESS_QUERY)).step).toBe('cancelled');
      await recordHistoryIfAsked(handle, 'retrain-cancelled-during-ingest');
    });
  });

  it('takes a raw catalogue through feature extraction (its queue) rather than ingestion', async () => {
    const dataset = { kind: 'raw' as const, interactions: '/shop/interactions.csv', items: '/shop/items.csv' };
    await temporal.withWorker(async () => {
      const handle = await start(input({ dataset }));
      const firstScheduled = async () => {
        for (let i = 0; i < 100; i++) {
          const event = (await handle.fetchHistory()).events!.find((e) => e.activityTaskScheduledEventAttributes);
          if (event) return event.activityTaskScheduledEventAttributes!;
          await new Promise((r) => setTimeout(r, 100));
        }
        return undefined;
      };
      const scheduled = await firstScheduled();
      expect(scheduled?.activityType?.name).toBe('extractFeatures');
      expect(scheduled?.taskQueue?.name).toBe(TASK_QUEUES.extract);
      await handle.cancel();
      await handle.result().catch(() => undefined);
    });
  });
});
