// What only the s3:// backend has: multipart uploads, the read-through cache and its limit, blobs without
// a manifest never showing, and the two failures a user must tell apart (no bucket / no endpoint).
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ConfigError, UserError } from '@sgfd/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactKey, sha256Hex } from './keys';
import { openArtifactStore } from './open-store';
import { S3ArtifactStore } from './s3-store';
import { ArtifactStoreUnavailableError } from './s3-errors';
import { createTestBucket, removeTestS3Caches, testS3Store, useTestS3 } from './test-support/s3';

const keyOf = (n: number) => artifactKey({ inputs: [n], config: {}, codeVersion: 's3' });
const MiB = 1024 ** 2;
const failure = (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );

describe('S3ArtifactStore', () => {
  let bucket: string;
  beforeAll(async () => {
    bucket = await createTestBucket('s3store');
  });
  afterAll(removeTestS3Caches);

  const objectsUnder = async (store: S3ArtifactStore, prefix: string) =>
    (
      (await store.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: store.objectKey(prefix) })))
        .Contents ?? []
    ).map((o) => o.Key!);

  it('uploads a large file in parts and reads it back byte for byte on another machine', async () => {
    const store = await testS3Store(bucket, 'multipart', { partBytes: 5 * MiB });
    const big = randomBytes(12 * MiB + 123);
    const stored = await store.put({ kind: 'model', key: keyOf(1) }, { 'weights.bin': big });
    const blobKey = store.objectKey('model', keyOf(1), 'blobs', sha256Hex(big));
    const head = await store.client.send(new HeadObjectCommand({ Bucket: bucket, Key: blobKey }));
    // A multipart object's ETag is "<md5 of the part md5s>-<part count>".
    expect(head.ETag).toMatch(/-3"?$/);
    expect(head.ContentLength).toBe(big.length);
    const elsewhere = await testS3Store(bucket, 'multipart');
    expect(Buffer.from(await elsewhere.get(stored.ref, 'weights.bin')).equals(big)).toBe(true);
  }, 120_000);

  it('reads through its local cache: a second read needs no download', async () => {
    const store = await testS3Store(bucket, 'cache');
    const stored = await store.put({ kind: 'snapshot', key: keyOf(2) }, { 'a.bin': randomBytes(1000) });
    const reader = await testS3Store(bucket, 'cache');
    const first = await reader.get(stored.ref, 'a.bin');
    // Remove the remote file's bytes: only a cached copy can still answer.
    await reader.deletePrefix(`${reader.objectKey('snapshot', keyOf(2), 'blobs')}/`);
    expect(Buffer.from(await reader.get(stored.ref, 'a.bin')).equals(Buffer.from(first))).toBe(true);
    const dir = await reader.openPath(stored.ref);
    expect((await readdir(dir)).sort()).toEqual(['a.bin', 'manifest.json']);
  });

  it('keeps the cache under its size limit, least recently used artifacts evicted first', async () => {
    const writer = await testS3Store(bucket, 'limit');
    const refs = [];
    for (let i = 0; i < 4; i++)
      refs.push((await writer.put({ kind: 'teacher', key: keyOf(10 + i) }, { 'w.bin': randomBytes(4000) })).ref);
    const reader = await testS3Store(bucket, 'limit', { cacheMaxBytes: 10_000, cacheKeepMs: 0 });
    for (const ref of refs) await reader.get(ref, 'w.bin');
    const { bytes, evicted } = await reader.cache.trim();
    expect(bytes).toBeLessThanOrEqual(10_000);
    const left = await readdir(join(reader.cache.root, 'teacher'));
    expect(left).toHaveLength(2);
    // The two read last stay.
    expect(left.sort()).toEqual(
      [refs[2]!, refs[3]!].map((r) => `${r.uri.split('/').pop()}-${r.sha256.slice(0, 16)}`).sort(),
    );
    expect(evicted).toEqual([]);
    // An evicted artifact is simply fetched again.
    expect((await reader.get(refs[0]!, 'w.bin')).length).toBe(4000);
  });

  it('never shows files uploaded without a manifest (a builder that died before publishing)', async () => {
    const store = await testS3Store(bucket, 'orphans');
    const key = keyOf(3);
    await store.client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: store.objectKey('teacher', key, 'blobs', 'f'.repeat(64)),
        Body: 'x',
      }),
    );
    expect(await store.find({ kind: 'teacher', key })).toBeUndefined();
    expect(await store.list()).toEqual([]);
    const built = await store.put({ kind: 'teacher', key }, { 'w.bin': 'complete' });
    expect(built.reused).toBe(false);
    expect(await store.list()).toEqual([built.ref]);
  });

  it('leaves no object and no local staging when the build fails while writing', async () => {
    const store = await testS3Store(bucket, 'failing');
    const error = await failure(
      store.withArtifact({ kind: 'model', key: keyOf(4) }, async (staging) => {
        await staging.path('w.bin');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }),
    );
    expect(error.message).toMatch(/ENOSPC/);
    expect(await objectsUnder(store, '')).toEqual([]);
    expect(await readdir(join(store.cache.root, '..', 'staging'))).toEqual([]);
  });

  it('opens s3:// URIs with endpoint, region and credentials from the standard AWS variables', async () => {
    useTestS3();
    const store = openArtifactStore(`s3://${bucket}/opened/`);
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.rootUri).toBe(`s3://${bucket}/opened`);
    const stored = await store.put({ kind: 'evaluation', key: keyOf(5) }, { 'm.json': '{}' });
    expect(stored.ref.uri).toBe(`s3://${bucket}/opened/evaluation/${keyOf(5)}`);
  });

  it('a missing bucket is one non-retryable ConfigError naming bucket and endpoint', async () => {
    const endpoint = useTestS3();
    const store = await testS3Store('no-such-bucket-sgfd', 'x');
    const error = await failure(store.put({ kind: 'model', key: keyOf(6) }, { a: 'b' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('The S3 bucket of the artifact store does not exist');
    expect(error.message).toContain(`s3://no-such-bucket-sgfd at ${endpoint}`);
  });

  it('an unreachable endpoint is a retryable error naming the endpoint', async () => {
    useTestS3();
    const endpoint = 'http://127.0.0.1:9'; // discard port: nothing listens there
    const store = await testS3Store(bucket, 'x', { endpoint });
    const error = await failure(store.find({ kind: 'model', key: keyOf(7) }));
    expect(error).toBeInstanceOf(ArtifactStoreUnavailableError);
    expect(error).not.toBeInstanceOf(UserError);
    expect(error.message).toMatch(/Cannot reach the S3 artifact store at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
  }, 30_000);
});
