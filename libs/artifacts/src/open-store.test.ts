import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileArtifactStore } from './file-store';
import { openArtifactStore } from './open-store';
import { S3ArtifactStore, parseS3Uri } from './s3-store';

describe('openArtifactStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens file:// URIs and plain paths as file stores, .sgfd/artifacts by default', () => {
    const viaUri = openArtifactStore(pathToFileURL(dir).href);
    expect(viaUri).toBeInstanceOf(FileArtifactStore);
    expect((viaUri as FileArtifactStore).root).toBe(dir);
    expect((openArtifactStore(dir) as FileArtifactStore).root).toBe(dir);
    expect((openArtifactStore() as FileArtifactStore).root).toBe(resolve('.sgfd/artifacts'));
  });

  it('opens s3:// URIs as S3 stores, with a local cache folder from SGFD_S3_CACHE_DIR', () => {
    const store = openArtifactStore('s3://bucket/runs', { SGFD_S3_CACHE_DIR: dir, AWS_REGION: 'eu-west-1' });
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.rootUri).toBe('s3://bucket/runs');
    expect((store as S3ArtifactStore).cache.root).toBe(join(dir, 'read'));
    expect(() => openArtifactStore('s3://bucket/runs', { SGFD_S3_CACHE_MAX_BYTES: 'lots' })).toThrow(
      /Invalid cache size.*SGFD_S3_CACHE_MAX_BYTES.*expected a whole number of bytes/,
    );
    expect(parseS3Uri('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', prefix: 'a/b' });
    expect(() => parseS3Uri('s3://')).toThrow(/expected s3:\/\/<bucket>/);
  });

  it('rejects other schemes naming what is supported', () => {
    expect(() => openArtifactStore('gs://bucket/x')).toThrow(
      /Unsupported artifact store scheme.*expected file:\/\/<dir> or s3:\/\//,
    );
  });
});
