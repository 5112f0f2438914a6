import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@sgfd/contracts';
import { DEFAULT_ARTIFACT_ROOT, FileArtifactStore } from './file-store';
import { createS3ArtifactStore, parseS3Uri } from './s3-store';
import type { ArtifactStore } from './store';

/** A store location as workers pass it on: URIs (file://, s3://) as they are, plain paths made absolute. */
export function absoluteStoreLocation(location: string, base = process.cwd()): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(location) ? location : resolve(base, location);
}

/** Local folder of an s3:// store's staging builds and read-through cache. */
export function s3CacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['SGFD_S3_CACHE_DIR'] || join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'sgfd', 's3-cache');
}

function cacheMaxBytes(env: NodeJS.ProcessEnv): number | undefined {
  const text = env['SGFD_S3_CACHE_MAX_BYTES'];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError('Invalid cache size', {
      field: 'SGFD_S3_CACHE_MAX_BYTES',
      expected: 'a whole number of bytes',
      found: text,
    });
  return n;
}

/**
 * Opens the store a URI names: `file:///abs/dir`, a plain path (relative to the current directory), or
 * `s3://bucket/prefix` (endpoint, region and credentials from the standard AWS variables and config files;
 * cache in SGFD_S3_CACHE_DIR, at most SGFD_S3_CACHE_MAX_BYTES). Default: `.sgfd/artifacts`.
 */
export function openArtifactStore(
  location: string = DEFAULT_ARTIFACT_ROOT,
  env: NodeJS.ProcessEnv = process.env,
): ArtifactStore {
  if (location.startsWith('file:')) {
    let path: string;
    try {
      path = fileURLToPath(location);
    } catch (e) {
      throw new ConfigError('Invalid file:// artifact store URI', {
        field: 'artifactStore',
        expected: 'file:///absolute/dir',
        found: `${location} (${(e as Error).message})`,
      });
    }
    return new FileArtifactStore(path);
  }
  if (location.startsWith('s3:')) {
    const { bucket, prefix } = parseS3Uri(location);
    return createS3ArtifactStore({ bucket, prefix, cacheDir: s3CacheDir(env), cacheMaxBytes: cacheMaxBytes(env), env });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new ConfigError('Unsupported artifact store scheme', {
      field: 'artifactStore',
      expected: 'file://<dir> or s3://<bucket>/<prefix>',
      found: location,
    });
  }
  return new FileArtifactStore(location);
}
