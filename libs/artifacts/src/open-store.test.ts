import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@sgfd/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileArtifactStore } from './file-store';
import { openArtifactStore } from './open-store';
import { parseS3Uri } from './s3-store';

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

  it('answers s3:// with a ConfigError saying the backend is not implemented yet', () => {
    expect(() => openArtifactStore('s3://bucket/runs')).toThrow(ConfigError);
    expect(() => openArtifactStore('s3://bucket/runs')).toThrow(
      /s3 backend not implemented yet.*found s3:\/\/bucket\/runs/,
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
