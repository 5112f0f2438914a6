import { readdir } from 'node:fs/promises';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { HISTORIES_DIR, bundleWorkflows, quietTemporalRuntime, readHistory } from './test-support/temporal';

// Determinism: histories recorded from real runs on the real server (src/histories/*.binpb, recorded with
// SGFD_RECORD_HISTORIES=1) must replay with the current workflow code. A change that alters the commands a
// recorded run issued fails here, before it can break runs in flight on a cluster.

describe('replay of recorded trainPipeline histories', () => {
  let bundle: WorkflowBundleWithSourceMap;
  let files: string[];
  beforeAll(async () => {
    quietTemporalRuntime();
    bundle = await bundleWorkflows();
    files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.binpb')).sort();
  });

  it('has recorded histories to replay, a whole pipeline run through the four worker apps among them', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
    // Recorded by apps/cli/src/pipeline.test.ts with SGFD_RECORD_HISTORIES=1.
    expect(files).toContain('full-pipeline-two-stage.binpb');
  });

  it('the recorded pipeline ran the four stages in order on their own task queues', async () => {
    const history = await readHistory('full-pipeline-two-stage.binpb');
    const scheduled = history.events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    );
    expect(scheduled.map((a) => [a.activityType?.name, a.taskQueue?.name])).toEqual([
      ['ingestDataset', 'sgfd-ingest'],
      ['pretrainTeacher', 'sgfd-teacher'],
      ['distillStudent', 'sgfd-student'],
      ['evaluateModel', 'sgfd-eval'],
    ]);
    expect(history.events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
  });

  it('replays every recorded history with the current workflow code', async () => {
    for (const file of files) {
      const history = await readHistory(file);
      await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, file), file).resolves.toBeUndefined();
    }
  });

  it('detects a history the current code would not produce', async () => {
    const history = await readHistory('cancelled-during-ingest.binpb');
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled?.activityTaskScheduledEventAttributes?.activityType?.name).toBe('ingestDataset');
    scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'distillStudent';
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(
      DeterminismViolationError,
    );
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(
      /Nondeterminism|ActivityType|distillStudent/i,
    );
  });
});
