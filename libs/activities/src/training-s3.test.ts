// Training against an s3:// store: a student attempt on one machine (its own local cache folder) is
// stopped after a checkpoint; the retry on another machine (another cache folder, nothing shared but the
// bucket) resumes from the checkpoint the first wrote to the bucket, and nothing is left behind.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityCancellationDetails, CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '@sgfd/artifacts';
import type { TrainingHeartbeat } from '@sgfd/contracts';
import { initBackend } from '@sgfd/tensor';
import { createTestBucket, useTestS3 } from '@sgfd/tools/testing';
import { createIngestActivities } from './ingest';
import { createStudentActivities, readTrainingRecord } from './student';
import { SMALL_DATASET, activityEnv, smallConfig } from './test-support/fixtures';

describe('training on an s3:// store', () => {
  let bucket: string;
  const caches: string[] = [];
  const machine = async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'sgfd-machine-'));
    caches.push(cacheDir);
    return new S3ArtifactStore({ bucket, prefix: 'runs', cacheDir });
  };
  beforeAll(async () => {
    await initBackend();
    useTestS3();
    bucket = await createTestBucket('training');
  });
  afterAll(async () => {
    await Promise.all(caches.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a student retried on another machine resumes from the checkpoint the first machine put in the bucket', async () => {
    const a = await machine();
    const b = await machine();
    const base = { runId: 'run-s3', codeVersion: 'test' };
    const ingest = await activityEnv().run(createIngestActivities({ store: a }).ingestDataset, {
      ...base,
      dataset: SMALL_DATASET,
    });
    const input = {
      ...base,
      snapshot: ingest.snapshot,
      datasetId: ingest.datasetId,
      teacher: null,
      config: smallConfig({ sgfd: { mode: 'off' } }),
    };

    const first = activityEnv();
    let lastBeat: TrainingHeartbeat | undefined;
    first.on('heartbeat', (d: TrainingHeartbeat) => {
      lastBeat = d;
      if (d.epoch >= 4 && d.checkpointUri && !first.context.cancellationSignal.aborted) {
        setImmediate(() => first.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true })));
      }
    });
    await expect(first.run(createStudentActivities({ store: a }).distillStudent, input)).rejects.toBeInstanceOf(
      CancelledFailure,
    );
    expect(lastBeat!.checkpointUri).toMatch(new RegExp(`^s3://${bucket}/runs/\\.checkpoints/student/`));
    expect(await a.list('model/')).toEqual([]);

    // Machine b has never seen the data, the checkpoint or anything of a's local folders.
    await rm(join(a.cache.root, '..'), { recursive: true, force: true });
    const retry = activityEnv({ attempt: 2, heartbeatDetails: lastBeat });
    const resumed = await retry.run(createStudentActivities({ store: b }).distillStudent, input);
    expect(resumed.resumedFromEpoch).toBe(4);
    const record = await readTrainingRecord(b, resumed.model);
    expect(record.attempt).toEqual({ attempt: 2, resumedFromEpoch: 4, trainedEpochs: [5, 6] });
    expect(record.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(record.valid['recall@20']).toBeGreaterThan(0);
    // The finished training removed its checkpoint from the bucket and from b's disk.
    expect(await b.listKeys(b.objectKey('.checkpoints'))).toEqual([]);
    expect(await readdir(join(b.cache.root, '..', 'checkpoints')).catch(() => [])).toEqual([]);
  });
});
