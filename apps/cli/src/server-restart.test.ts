// The local Temporal server killed with SIGKILL in the middle of a student stage, with no worker restarted:
// (1) `sgfd dev` notices and restarts it on the same ports and database; (2) without supervision, a user
// restarts it by hand with `server.ts start`, which takes the recorded address again. Either way the
// workers reconnect by themselves and the run completes in its first attempt, no epoch trained twice.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PIPELINE_PROGRESS_QUERY,
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  type PipelineProgress,
  type RunSummary,
  type TrainPipelineInput,
} from '@sgfd/contracts';
import { FileArtifactStore, isProcessAlive } from '@sgfd/artifacts';
import { readTrainingRecord } from '@sgfd/activities';
import {
  REPO_ROOT,
  ensureLocalServer,
  readLocalServerState,
  stopLocalServer,
  type LocalServerState,
} from '@sgfd/tools';
import { startWorkers, type WorkerGroup } from './pipeline/workers';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'sgfd.mjs');
const SERVER_TS = join(REPO_ROOT, 'tools', 'temporal', 'server.ts');
const EPOCHS = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  detail: () => string = () => '',
): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}${detail() ? `; output:\n${detail()}` : ''}`);
}

async function runInput(): Promise<TrainPipelineInput> {
  const { resolveRunConfig } = await import('@sgfd/training');
  return {
    runId: `restart-${randomUUID().slice(0, 8)}`,
    dataset: { kind: 'synthetic', preset: 'tiny', seed: 17 },
    config: resolveRunConfig({
      backbone: 'vbpr',
      sgfd: { mode: 'off' },
      training: { epochs: EPOCHS, patience: EPOCHS, learningRate: 0.01, checkpointEvery: 2, seed: 4 },
    }),
    codeVersion: 'restart-test',
  };
}

/** Starts a run, waits until its student has trained a few epochs, SIGKILLs the server, then `restart()`. */
async function killServerMidStudent(stateDir: string, restart: (killed: LocalServerState) => Promise<void>) {
  const before = (await readLocalServerState(stateDir))!;
  const connection = await Connection.connect({ address: before.address });
  try {
    const client = new Client({ connection, namespace: before.namespace });
    const input = await runInput();
    const handle = await client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
    // The progress query (fed by the student's progress signals) shows the epoch sooner than heartbeats,
    // which the SDK sends at most every 0.8 x the heartbeat timeout (1 min by default).
    const killedAt = await until(
      'the student at epoch 3',
      async () => {
        const epoch = (await handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY)).stages.student.epoch ?? 0;
        return epoch >= 3 ? epoch : undefined;
      },
      240_000,
    );
    process.kill(before.pid, 'SIGKILL');
    await until('the server process to be gone', async () => (isProcessAlive(before.pid) ? undefined : true));
    await restart(before);
    const after = (await readLocalServerState(stateDir))!;
    expect(after.pid).not.toBe(before.pid);
    expect(after.address).toBe(before.address);
    expect(after.uiUrl).toBe(before.uiUrl);
    const summary: RunSummary = await handle.result();
    return { summary, killedAt };
  } finally {
    await connection.close();
  }
}

function expectNoEpochTrainedTwice(record: Awaited<ReturnType<typeof readTrainingRecord>>): void {
  // The same attempt trained every epoch: the server restart cost the training nothing.
  expect(record.attempt).toEqual({
    attempt: 1,
    resumedFromEpoch: null,
    trainedEpochs: Array.from({ length: EPOCHS }, (_, i) => i + 1),
  });
}

describe('a local server killed mid student stage', { timeout: 600_000 }, () => {
  const dirs: string[] = [];
  const temp = async (label: string) => {
    const dir = await mkdtemp(join(tmpdir(), `sgfd-restart-${label}-`));
    dirs.push(dir);
    return dir;
  };
  let dev: ChildProcess | undefined;
  let workers: WorkerGroup | undefined;
  afterAll(async () => {
    // SIGINT lets sgfd dev stop its workers and server; SIGKILL would leave them running.
    if (dev && dev.exitCode === null) {
      const gone = new Promise((r) => dev!.once('exit', r));
      dev.kill('SIGINT');
      await Promise.race([gone, sleep(30_000)]);
      dev.kill('SIGKILL');
    }
    await workers?.stop();
    for (const dir of dirs) {
      await stopLocalServer(join(dir, 'server')).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is restarted by sgfd dev on the same address, and the run completes without retraining', async () => {
    const dir = await temp('dev');
    const stateDir = join(dir, 'server');
    const artifacts = join(dir, 'artifacts');
    let output = '';
    dev = spawn(process.execPath, [BIN, 'dev', '--artifacts', artifacts], {
      env: { ...process.env, TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '', SGFD_LOCAL_SERVER_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => dev!.once('exit', (code) => r(code)));
    dev.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    dev.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until(
      'sgfd dev to be ready',
      async () => (output.includes('workers ready') ? true : undefined),
      360_000,
      () => output.slice(-4000),
    );

    const { summary } = await killServerMidStudent(stateDir, async () => {
      await until(
        'sgfd dev to restart the server',
        async () => (output.includes('Temporal server restarted') ? true : undefined),
        120_000,
        () => output.slice(-4000),
      );
    });
    expect(output).toMatch(/the Temporal server \(pid \d+\) is gone; restarting it/);
    expectNoEpochTrainedTwice(await readTrainingRecord(new FileArtifactStore(artifacts), summary.artifacts.model));

    dev.kill('SIGINT');
    expect(await exited).toBe(0);
    dev = undefined;
  });

  it('is restarted by hand with server.ts start on its recorded address; the workers reconnect by themselves', async () => {
    const dir = await temp('hand');
    const stateDir = join(dir, 'server');
    const artifacts = join(dir, 'artifacts');
    const server = await ensureLocalServer({ stateDir });
    workers = await startWorkers({ target: { address: server.address, namespace: server.namespace }, artifacts });

    const { summary } = await killServerMidStudent(stateDir, async () => {
      const started = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', SERVER_TS, 'start'],
          { cwd: REPO_ROOT, env: { ...process.env, SGFD_LOCAL_SERVER_DIR: stateDir } },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      );
      expect(started).toContain(`Temporal ${server.address}`);
    });
    expectNoEpochTrainedTwice(await readTrainingRecord(new FileArtifactStore(artifacts), summary.artifacts.model));
    // No worker was restarted: the ones started before the crash are the ones still running.
    expect(workers.workers.every((w) => w.child.exitCode === null)).toBe(true);
    expect(JSON.parse(await readFile(join(stateDir, 'temporal-server.json'), 'utf8')).address).toBe(server.address);
  });
});
