import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPERIMENT_SUITE_WORKFLOW,
  SUITE_PROGRESS_QUERY,
  WORKFLOW_TASK_QUEUE,
  parseSuiteSpec,
  suiteCellWorkflowId,
  type ExperimentSuiteInput,
  type SuiteProgress,
  type SuiteSpecInput,
} from '@sgfd/contracts';
import {
  bundleWorkflows,
  recordHistoryIfAsked,
  temporalTestContext,
  type TemporalTestContext,
} from './test-support/temporal';

// The suite workflow on the real server with NO activity workers: its cells (real trainPipeline children)
// wait in their ingest stage, so the test decides when a cell ends, by terminating its child workflow, and
// checks what the suite does about it. The full suite with the four workers runs in
// libs/activities/src/suite.integration.test.ts.

const spec = (overrides: Partial<SuiteSpecInput> = {}) =>
  parseSuiteSpec({
    name: 'wf',
    datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1 }],
    backbones: ['vbpr'],
    sgfd: ['off'],
    seeds: [1, 2, 3, 4],
    parallelism: 2,
    ...overrides,
  });

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('experimentSuite on the real Temporal server', () => {
  let bundle: WorkflowBundleWithSourceMap;
  let temporal: TemporalTestContext;
  beforeAll(async () => {
    bundle = await bundleWorkflows();
    temporal = await temporalTestContext(bundle, 'wf-suite');
  });
  afterAll(async () => {
    await temporal?.close();
  });

  const start = (input: ExperimentSuiteInput) =>
    temporal.client.workflow.start(EXPERIMENT_SUITE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.suiteId,
      args: [input],
    });

  it('fails a bad suite spec at once, non-retryable, naming the field, before any cell starts', async () => {
    const suiteId = `suite-${randomUUID()}`;
    const bad = { ...spec(), seeds: [1, -1] } as ExperimentSuiteInput['spec'];
    const { error, history } = await temporal.withWorker(async () => {
      const handle = await start({ suiteId, spec: bad, codeVersion: 'test' });
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      return { error, history: await handle.fetchHistory() };
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('ConfigError');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/field 'seeds\[1\]'/);
    expect(history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
  });

  it('runs at most `parallelism` cells, records a failed cell with its error and goes on, continues as new, then reports', async () => {
    const suiteId = `suite-${randomUUID()}`;
    await temporal.withWorker(async () => {
      // A limit this low makes every generation rotate as soon as its running cells end.
      const handle = await start({ suiteId, spec: spec(), codeVersion: 'test', continueAsNewAfterEvents: 12 });
      const firstRunId = handle.firstExecutionRunId;
      const progress = () => temporal.client.workflow.getHandle(suiteId).query<SuiteProgress>(SUITE_PROGRESS_QUERY);
      const cellId = (seed: number) => suiteCellWorkflowId(suiteId, `tiny/vbpr/off/h0/s${seed}`);

      const first = await waitFor(progress, (p) => p.running.length === 2);
      expect(first).toMatchObject({ phase: 'running', total: 4, done: 0, failed: 0, pending: 2, generation: 0 });
      expect(first.running).toEqual(['tiny/vbpr/off/h0/s1', 'tiny/vbpr/off/h0/s2']);
      // The child is a real trainPipeline waiting in its ingest stage (no ingest worker in this namespace).
      // A cell counts as running once its start is commanded, a moment before the server has the child.
      const describeCell = (seed: number) => () =>
        temporal.client.workflow
          .getHandle(cellId(seed))
          .describe()
          .then(
            (d) => d.type,
            () => undefined,
          );
      expect(await waitFor(describeCell(1), (type) => type !== undefined)).toBe('trainPipeline');
      expect(await waitFor(describeCell(2), (type) => type !== undefined)).toBe('trainPipeline');
      await expect(temporal.client.workflow.getHandle(cellId(3)).describe()).rejects.toThrow();

      await temporal.client.workflow.getHandle(cellId(1)).terminate('simulated cell failure');
      await temporal.client.workflow.getHandle(cellId(2)).terminate('simulated cell failure');
      // Both cells of generation 0 failed; the suite continued as new and started the other two.
      const second = await waitFor(progress, (p) => p.generation >= 1 && p.running.length === 2);
      expect(second).toMatchObject({ total: 4, failed: 2, done: 0, pending: 0 });
      expect(second.failures.map((f) => f.cellId)).toEqual(['tiny/vbpr/off/h0/s1', 'tiny/vbpr/off/h0/s2']);
      expect(second.failures[0]!.error).toMatch(/terminated/i);
      expect((await temporal.client.workflow.getHandle(suiteId).describe()).runId).not.toBe(firstRunId);

      // The same moment as above: the new generation's cells count as running before the server has them.
      expect(await waitFor(describeCell(3), (type) => type !== undefined)).toBe('trainPipeline');
      expect(await waitFor(describeCell(4), (type) => type !== undefined)).toBe('trainPipeline');
      await temporal.client.workflow.getHandle(cellId(3)).terminate('simulated cell failure');
      await temporal.client.workflow.getHandle(cellId(4)).terminate('simulated cell failure');
      // Every cell failed, and the suite still goes on to its report (no eval worker here: it waits there).
      const reporting = await waitFor(progress, (p) => p.phase === 'reporting');
      expect(reporting).toMatchObject({ total: 4, failed: 4, running: [], pending: 0 });
      await temporal.client.workflow.getHandle(suiteId).cancel();
    });
  });

  it('cancels its running cells when cancelled, and ends cancelled', async () => {
    const suiteId = `suite-${randomUUID()}`;
    await temporal.withWorker(async () => {
      const handle = await start({ suiteId, spec: spec({ seeds: [1, 2, 3] }), codeVersion: 'test' });
      await waitFor(
        () => handle.query<SuiteProgress>(SUITE_PROGRESS_QUERY),
        (p) => p.running.length === 2,
      );
      await handle.cancel();
      const error = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      for (const seed of [1, 2]) {
        const child = await temporal.client.workflow
          .getHandle(suiteCellWorkflowId(suiteId, `tiny/vbpr/off/h0/s${seed}`))
          .describe();
        expect(child.status.name).toBe('CANCELLED');
      }
      expect((await handle.query<SuiteProgress>(SUITE_PROGRESS_QUERY)).phase).toBe('cancelled');
      await recordHistoryIfAsked(handle, 'suite-cancelled');
    });
  });
});
