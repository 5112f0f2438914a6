import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@sgfd/contracts';
import { DEFAULT_ARTIFACT_ROOT, FileArtifactStore } from './file-store';
import { createS3ArtifactStore, parseS3Uri } from './s3-store';
import type { ArtifactStore } from './store';

/**
 * Opens the store a URI names: `file:///abs/dir`, a plain path (relative to the current directory), or
 * `s3://bucket/prefix` (designed, not implemented: throws a ConfigError). Default: `.sgfd/artifacts`.
 */
export function openArtifactStore(location: string = DEFAULT_ARTIFACT_ROOT): ArtifactStore {
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
    return createS3ArtifactStore({ bucket, prefix, cacheDir: join(homedir(), '.cache', 'sgfd', 's3') });
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
