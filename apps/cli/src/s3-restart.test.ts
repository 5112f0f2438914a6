// The S3 server stopped for 10 s in the middle of a run (its own versitygw on loopback, restarted on the
// same port and folder): activities that meet it fail retryably naming the endpoint and succeed once it is
// back; the run completes, and every manifest in the bucket names files that are all there.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  TRAIN_PIPELINE_WORKFLOW,
  WORKFLOW_TASK_QUEUE,
  type RunSummary,
  type TrainPipelineInput,
  type TrainingHeartbeat,
} from '@sgfd/contracts';
import { ARTIFACT_MANIFEST_FILE, ArtifactManifestSchema, S3ArtifactStore } from '@sgfd/artifacts';
import { startS3Server, type S3Server } from '@sgfd/tools';
import { createTestBucket, registerTestNamespace, s3Env, temporalTestAddress } from '@sgfd/tools/testing';
import { startWorkers, type WorkerGroup } from './pipeline/workers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const decodeJson = (payload: { data?: Uint8Array | null } | undefined) =>
  JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as unknown;

describe('the S3 store stopped for 10 s mid run', { timeout: 420_000 }, () => {
  let dir: string;
  let s3: S3Server;
  let workers: WorkerGroup | undefined;
  let connection: Connection;
  const logs: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-s3-restart-'));
    s3 = await startS3Server({ dataDir: join(dir, 'data') });
  }, 60_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await workers?.stop();
    await connection?.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the run completes and nothing half-published is visible', async () => {
    const server = { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, env: {} };
    const env = s3Env(s3.endpoint, s3.accessKey, s3.secretKey);
    const bucket = await createTestBucket('outage', { ...server, env });
    const { address } = temporalTestAddress();
    connection = await Connection.connect({ address });
    const namespace = await registerTestNamespace(connection, 's3-outage');
    workers = await startWorkers({
      target: { address, namespace },
      artifacts: `s3://${bucket}/runs`,
      env: { ...env, SGFD_S3_CACHE_DIR: join(dir, 'cache') },
      onLog: (e) => {
        logs.push(`[${e.stage} ${e.pid}] ${e.level} ${e.msg}`);
        if (logs.length > 80) logs.shift();
      },
    });
    const client = new Client({ connection, namespace });
    const { resolveRunConfig } = await import('@sgfd/training');
    const input: TrainPipelineInput = {
      runId: `outage-${randomUUID().slice(0, 8)}`,
      dataset: { kind: 'synthetic', preset: 'tiny', seed: 19 },
      config: resolveRunConfig({
        backbone: 'vbpr',
        sgfd: { mode: 'off' },
        training: { epochs: 30, patience: 30, learningRate: 0.01, checkpointEvery: 2, seed: 8 },
      }),
      codeVersion: 'outage-test',
      timeouts: { student: { heartbeatTimeoutMs: 5_000 } },
    };
    const handle = await client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
    for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(200)) {
      const pending = (await handle.describe()).raw.pendingActivities?.find(
        (a) => a.activityType?.name === 'distillStudent',
      );
      const details = pending?.heartbeatDetails?.payloads?.[0];
      const beat = details ? (decodeJson(details) as TrainingHeartbeat) : undefined;
      if (beat?.checkpointUri) break;
    }
    await s3.stop(5_000);
    await sleep(10_000);
    s3 = await startS3Server({ dataDir: s3.dataDir, port: s3.port, accessKey: s3.accessKey, secretKey: s3.secretKey });

    const summary: RunSummary = await Promise.race([
      handle.result(),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`the run did not finish; workers' last lines:\n${logs.join('\n')}`)),
          300_000,
        ).unref(),
      ),
    ]);
    expect(summary.test['recall@20']).toBeGreaterThan(summary.popularity['recall@20']!);

    // Every manifest in the bucket is complete: each file it lists is there with its size.
    // The reader takes its credentials from the environment, as a user's would; restored after the file.
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const store = new S3ArtifactStore({ bucket, prefix: 'runs', cacheDir: join(dir, 'reader') });
    const keys = await store.listKeys(store.objectKey(''));
    const manifests = keys.filter((k) => k.endsWith(`/${ARTIFACT_MANIFEST_FILE}`));
    expect(manifests.length).toBeGreaterThanOrEqual(3);
    for (const key of manifests) {
      const manifest = ArtifactManifestSchema.parse(JSON.parse((await store.getText(key, 'test'))!));
      const base = key.slice(0, -ARTIFACT_MANIFEST_FILE.length);
      for (const file of manifest.files) expect(keys).toContain(`${base}blobs/${file.sha256}`);
    }
    expect((await store.list()).map((r) => r.uri)).toEqual(
      expect.arrayContaining([summary.artifacts.model.uri, summary.artifacts.evaluation.uri]),
    );
  });
});
