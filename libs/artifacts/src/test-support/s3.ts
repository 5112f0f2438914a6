import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from '../s3-store';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    s3AccessKey: string;
    s3SecretKey: string;
  }
}

/**
 * Points the standard AWS variables of this test process at the shared S3 test server (versitygw, started
 * by the root global setup), so stores find endpoint and credentials the way users' do. Throws without one.
 */
export function useTestS3(): string {
  const endpoint = inject('s3Endpoint');
  if (!endpoint)
    throw new Error(
      'No S3 test server in this run: add this project to PROJECTS_USING_S3 in tools/temporal/vitest-global-setup.ts',
    );
  process.env['AWS_ENDPOINT_URL_S3'] = endpoint;
  process.env['AWS_ACCESS_KEY_ID'] = inject('s3AccessKey');
  process.env['AWS_SECRET_ACCESS_KEY'] = inject('s3SecretKey');
  process.env['AWS_REGION'] = 'us-east-1';
  return endpoint;
}

/** A new bucket on the test server. */
export async function createTestBucket(label: string): Promise<string> {
  const endpoint = useTestS3();
  const bucket = `${label}-${randomBytes(4).toString('hex')}`;
  const client = new S3Client({ endpoint, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return bucket;
}

/** An S3 store on `bucket` with its own fresh local cache (as on another machine). */
export async function testS3Store(
  bucket: string,
  prefix: string,
  options: Partial<S3ArtifactStoreOptions> = {},
): Promise<S3ArtifactStore> {
  useTestS3();
  const cacheDir = await mkdtemp(join(tmpdir(), 'sgfd-s3-cache-'));
  cacheDirs.push(cacheDir);
  return new S3ArtifactStore({ bucket, prefix, cacheDir, ...options });
}

const cacheDirs: string[] = [];

/** Removes the local caches of every store testS3Store made. */
export async function removeTestS3Caches(): Promise<void> {
  await Promise.all(cacheDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
