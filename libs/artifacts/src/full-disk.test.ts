// A full local disk while staging, on a real file system: a 1 MiB tmpfs mounted (in a private user and mount
// namespace, so no privilege is needed) where the store stages, and an artifact of 4 MiB. The build must fail
// with the disk's error, publish nothing and leave no staging behind, for both stores.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactKey } from './keys';
import { createTestBucket, useTestS3 } from './test-support/s3';

const child = fileURLToPath(new URL('./fixtures/full-disk-build.ts', import.meta.url));
const key = artifactKey({ inputs: ['full disk'], config: {}, codeVersion: 'test' });

interface Outcome {
  error: { message: string; code?: string } | null;
  listed: string[];
  /** What is left on the tmpfs, listed inside the namespace before it goes. */
  leftOnDisk: string[];
}

/** Runs the fixture with a 1 MiB tmpfs on `mountPoint`, visible only to it. */
function buildOnFullDisk(mountPoint: string, uri: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const script =
    'mount -t tmpfs -o size=1m tmpfs "$1" && shift && "$@" && echo "left:$(find "$MOUNT" -type f | tr \'\\n\' \' \')"';
  return new Promise((resolve, reject) =>
    execFile(
      'unshare',
      ['-rm', 'sh', '-c', script, 'sh', mountPoint, process.execPath, '--import', 'tsx', child, uri, key],
      { env: { ...env, MOUNT: mountPoint } },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`full-disk fixture failed: ${stderr}`));
        const [json, left] = stdout.trim().split('\n');
        const leftOnDisk = left!
          .replace(/^left:/, '')
          .trim()
          .split(' ')
          .filter(Boolean);
        resolve({ ...(JSON.parse(json!) as Omit<Outcome, 'leftOnDisk'>), leftOnDisk });
      },
    ),
  );
}

describe('a full local disk while staging', { timeout: 60_000 }, () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sgfd-full-disk-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('file:// store on the full disk: the disk error, nothing published, no staging left', async () => {
    const root = join(work, 'store');
    await mkdir(root);
    const outcome = await buildOnFullDisk(root, root, process.env);
    expect(outcome.error?.code).toBe('ENOSPC');
    expect(outcome.listed).toEqual([]);
    expect(outcome.leftOnDisk).toEqual([]);
    expect(await readdir(root)).toEqual([]); // outside the namespace: the real folder was never written
  });

  it('s3:// store staging on the full disk: the disk error, no object in the bucket, no staging left', async () => {
    useTestS3();
    const bucket = await createTestBucket('fulldisk');
    const cache = join(work, 's3-cache');
    await mkdir(cache);
    const outcome = await buildOnFullDisk(cache, `s3://${bucket}/run`, { ...process.env, SGFD_S3_CACHE_DIR: cache });
    expect(outcome.error?.code).toBe('ENOSPC');
    expect(outcome.listed).toEqual([]);
    expect(outcome.leftOnDisk).toEqual([]);
    const client = new S3Client({ endpoint: process.env['AWS_ENDPOINT_URL_S3'], forcePathStyle: true });
    try {
      const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(objects.Contents ?? []).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
