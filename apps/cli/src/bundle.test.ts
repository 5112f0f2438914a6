// `npm run build` gives workers and a CLI that need no checkout: dist/ alone is copied to a folder outside the
// repository beside a node_modules (a symlink to this checkout's, as a deployment would `npm install` it from
// dist/package.json), and the bundled workers, started there with no tsx, run a two-stage run on `tiny` on
// the test server. The bundled CLI answers --help there.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPELINE_PROGRESS_QUERY,
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  type PipelineProgress,
  type RunSummary,
  type TrainPipelineInput,
} from '@sgfd/contracts';
import { resolveRunConfig } from '@sgfd/training';
import { REPO_ROOT } from '@sgfd/tools';
import { buildDist, ENTRY_POINTS } from '@sgfd/tools/build';
import { registerTestNamespace, temporalTestAddress } from '@sgfd/tools/testing';
import { startWorker, type WorkerProcess } from './pipeline/workers';

function node(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, TEMPORAL_ADDRESS: '' } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('the bundles of npm run build, outside the checkout', { timeout: 240_000 }, () => {
  let buildDir: string;
  /** The "other machine": dist/ and node_modules only. */
  let machine: string;
  let dist: string;
  let connection: Connection;
  const workers: WorkerProcess[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    buildDir = await mkdtemp(join(tmpdir(), 'sgfd-build-'));
    machine = await mkdtemp(join(tmpdir(), 'sgfd-machine-'));
    const built = await buildDist({ outDir: join(buildDir, 'dist'), log: () => undefined });
    console.log(
      `[bundle] esbuild ${built.seconds.bundles.toFixed(1)} s, workflow bundle ${built.seconds.workflows.toFixed(1)} s`,
    );
    dist = join(machine, 'dist');
    await cp(built.outDir, dist, { recursive: true });
    await symlink(join(REPO_ROOT, 'node_modules'), join(machine, 'node_modules'));
  }, 180_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    await rm(buildDir, { recursive: true, force: true });
    await rm(machine, { recursive: true, force: true });
  }, 60_000);

  it('holds an entry per worker and the CLI, the workflow bundle, and the external packages to install', async () => {
    const files = await readdir(dist);
    for (const name of Object.keys(ENTRY_POINTS)) expect(files).toContain(`${name}.mjs`);
    expect(files).toContain('workflow-bundle.js');
    const pkg = JSON.parse(await readFile(join(dist, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      sgfdBuild: { codeVersion: string };
    };
    for (const name of ['@temporalio/worker', '@tensorflow/tfjs-node', 'onnxruntime-node', 'sharp', 'parquet-wasm'])
      expect(pkg.dependencies[name]).toMatch(/^\d+\.\d+\.\d+/);
    expect(pkg.dependencies['tsx']).toBeUndefined();
    expect(pkg.sgfdBuild.codeVersion).toMatch(/^git:/);
    // Nothing in the bundles points back into the checkout's sources.
    const sources = await Promise.all(
      files.filter((f) => f.endsWith('.mjs')).map((f) => readFile(join(dist, f), 'utf8')),
    );
    expect(sources.some((s) => s.includes(`${REPO_ROOT}/apps`) || s.includes(`${REPO_ROOT}/libs`))).toBe(false);
  });

  it('the bundled CLI answers --help from the other folder', async () => {
    const help = await node(machine, join(dist, 'sgfd.mjs'), '--help');
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: sgfd/);
    expect(help.stdout).toMatch(/^ {2}server\b/m);
    const worker = await node(machine, join(dist, 'worker-student.mjs'), '--help');
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stdout).toContain('usage: node dist/worker-student.mjs');
  });

  it('the bundled workers poll their queues and run a two-stage run on tiny; artifacts land in ./.sgfd of that folder', async () => {
    const { address } = temporalTestAddress();
    connection = await Connection.connect({ address });
    const namespace = await registerTestNamespace(connection, 'bundle');
    const stages = ['ingest', 'teacher', 'student', 'eval'] as const;
    workers.push(
      ...(await Promise.all(
        stages.map((stage) =>
          startWorker(stage, {
            target: { address, namespace },
            bundleDir: dist,
            cwd: machine,
            readyTimeoutMs: 120_000,
            onLog: (e) => {
              logs.push(`[${e.stage} ${e.pid}] ${e.level} ${e.msg}`);
              if (logs.length > 40) logs.shift();
            },
          }),
        ),
      )),
    );
    // Each worker runs its bundle from the other folder, not the source through tsx.
    for (const w of workers) {
      const args = w.child.spawnargs.slice(1);
      expect(args[0]).toBe(join(dist, `worker-${w.stage}.mjs`));
      expect(args.join(' ')).not.toContain('tsx');
    }
    const client = new Client({ connection, namespace });
    const input: TrainPipelineInput = {
      runId: `bundle-${randomUUID().slice(0, 8)}`,
      dataset: { kind: 'synthetic', preset: 'tiny', seed: 11 },
      config: resolveRunConfig({
        backbone: 'vbpr',
        sgfd: { mode: 'two-stage', teacher: { epochs: 1 } },
        training: { epochs: 2, seed: 3 },
      }),
      codeVersion: 'bundle-test',
    };
    const handle = await client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
    let summary: RunSummary;
    try {
      summary = await handle.result();
    } catch (e) {
      throw new Error(`${(e as Error).message}\nworker logs:\n${logs.join('\n')}`);
    }
    expect(summary.test['recall@20']).toBeGreaterThan(0);
    expect(summary.artifacts.teacher).not.toBeNull();
    // No --artifacts, SGFD_ARTIFACTS or SGFD_HOME: the store is <cwd>/.sgfd/artifacts of the other folder.
    expect(fileURLToPath(summary.artifacts.model.uri).startsWith(join(machine, '.sgfd', 'artifacts'))).toBe(true);
    // The bundled training workers load the native engine as the source does (a silent wasm fallback fails here).
    const progress = await handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY);
    const expected = process.env['SGFD_BACKEND']
      ? new RegExp(`^${process.env['SGFD_BACKEND']}$`)
      : /^tensorflow(-gpu)?$/;
    for (const stage of ['teacher', 'student'] as const) expect(progress.stages[stage].backend).toMatch(expected);
  });
});
