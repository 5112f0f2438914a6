// Load: 20 pipelines on `tiny` started at once on one dev server (the run's test server) with the four worker
// apps as processes (ingest + workflows, teacher, student, eval; one each, default concurrency). All must
// complete, and each must equal the same run done alone: the same test and validation metrics and the same
// model weights (sha256 of every file of the model). Runs are made distinct by seed and SGFD mode; the two
// sets carry different code versions, so the runs alone recompute everything instead of reusing the
// artifacts the runs together stored. Prints both wall times (README, "Benchmarks").
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  type RunConfigInput,
  type RunSummary,
  type TrainPipelineInput,
} from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import { MODEL_FOLDER } from '@sgfd/activities';
import { resolveRunConfig } from '@sgfd/training';
import { registerTestNamespace, temporalTestAddress } from '@sgfd/tools/testing';
import { startWorker, type WorkerProcess } from './pipeline/workers';

const RUNS = 20;

/** Run i: seed i + 1, every other one two-stage (so the teacher worker is loaded too); very few epochs. */
function config(i: number): RunConfigInput {
  return {
    backbone: 'vbpr',
    sgfd: i % 2 === 0 ? { mode: 'off' } : { mode: 'two-stage', teacher: { epochs: 1 } },
    training: { epochs: 2, seed: i + 1 },
  };
}

/** Peak resident memory (VmHWM) and CPU seconds (user + system) of a process so far, from /proc (Linux). */
async function usage(pid: number): Promise<string> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const peakKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
    const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    const cpu = (Number(stat[11]) + Number(stat[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
    return `peak RSS ${(peakKb / 1024).toFixed(0)} MB, CPU ${cpu.toFixed(1)} s`;
  } catch {
    return 'no /proc here';
  }
}

interface Outcome {
  summary: RunSummary;
  weights: string;
}

describe('20 pipelines at once on one dev server with the four workers', { timeout: 600_000 }, () => {
  let artifacts: string;
  let store: FileArtifactStore;
  let connection: Connection;
  let client: Client;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    const { address } = temporalTestAddress();
    connection = await Connection.connect({ address });
    const namespace = await registerTestNamespace(connection, 'load');
    client = new Client({ connection, namespace });
    artifacts = await mkdtemp(join(tmpdir(), 'sgfd-load-'));
    store = new FileArtifactStore(artifacts);
    const stages = ['ingest', 'teacher', 'student', 'eval'] as const;
    workers.push(
      ...(await Promise.all(
        stages.map((stage) =>
          startWorker(stage, { target: { address, namespace }, artifacts, readyTimeoutMs: 280_000 }),
        ),
      )),
    );
  }, 300_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    await rm(artifacts, { recursive: true, force: true });
  }, 60_000);

  /** sha256 over the names and bytes of every file of the model folder of a run's model artifact. */
  async function weightsHash(summary: RunSummary): Promise<string> {
    const dir = join(await store.openPath(summary.artifacts.model), MODEL_FOLDER);
    const hash = createHash('sha256');
    for (const name of (await readdir(dir, { recursive: true })).sort())
      hash.update(`${name}\0`).update(await readFile(join(dir, name)).catch(() => Buffer.alloc(0)));
    return hash.digest('hex');
  }

  async function run(i: number, set: 'together' | 'alone'): Promise<Outcome> {
    const input: TrainPipelineInput = {
      runId: `load-${set}-${i}-${Math.random().toString(16).slice(2, 8)}`,
      dataset: { kind: 'synthetic', preset: 'tiny', seed: 11 },
      config: resolveRunConfig(config(i)),
      codeVersion: `load-test-${set}`,
    };
    const handle = await client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
    const summary: RunSummary = await handle.result();
    return { summary, weights: await weightsHash(summary) };
  }

  it('all complete, and each equals the same run done alone', async () => {
    let started = Date.now();
    const together = await Promise.all(Array.from({ length: RUNS }, (_, i) => run(i, 'together')));
    const togetherSeconds = (Date.now() - started) / 1000;

    started = Date.now();
    const alone: Outcome[] = [];
    for (let i = 0; i < RUNS; i++) alone.push(await run(i, 'alone'));
    const aloneSeconds = (Date.now() - started) / 1000;
    console.log(
      `[load] ${RUNS} pipelines on tiny started at once: all complete in ${togetherSeconds.toFixed(1)} s wall ` +
        `(the same ${RUNS} one after another: ${aloneSeconds.toFixed(1)} s)`,
    );
    for (const w of workers) console.log(`[load] worker-${w.stage}: ${await usage(w.pid)}`);

    for (let i = 0; i < RUNS; i++) {
      const [a, b] = [together[i]!, alone[i]!];
      expect(a.summary.reused.student, `run ${i}`).toBe(false);
      expect(b.summary.reused.student, `run ${i}`).toBe(false);
      expect(a.summary.test, `run ${i} test metrics`).toEqual(b.summary.test);
      expect(a.summary.valid, `run ${i} validation metrics`).toEqual(b.summary.valid);
      expect(a.weights, `run ${i} model weights`).toBe(b.weights);
    }
    // Distinct runs, not one result twenty times.
    expect(new Set(together.map((o) => o.weights)).size).toBe(RUNS);
  });
});
