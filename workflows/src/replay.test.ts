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

  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
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
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(DeterminismViolationError);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history)).rejects.toThrow(/Nondeterminism|ActivityType|distillStudent/i);
  });
});
