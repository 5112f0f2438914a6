import { ConfigError } from '@sgfd/contracts';

/**
 * Design of the s3:// backend (not implemented yet), so several machines can share one store:
 * - layout `s3://<bucket>/<prefix>/<kind>/<key>/<file>`, same as the file backend;
 * - withArtifact builds in a local staging dir, uploads every file, then PUTs manifest.json last:
 *   an S3 PUT is atomic per object, so an artifact is visible exactly when its manifest object is;
 * - find/exists = HEAD/GET of the manifest; list = ListObjectsV2 on `<prefix>/<kind>/` (delimiter '/');
 * - openPath downloads the files to `cacheDir/<kind>/<key>/` (verified against the manifest) and
 *   returns that local path; delete removes the manifest first, then the files;
 * - refs carry s3:// URIs; the manifest sha256 in the ref detects a replaced artifact.
 */
export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing '/'. */
  prefix: string;
  region?: string;
  /** For S3-compatible services (MinIO, R2): their endpoint URL. */
  endpoint?: string;
  /** Local directory for downloaded artifacts (openPath). */
  cacheDir: string;
}

/** Splits `s3://bucket/some/prefix` into options; the backend itself is not implemented yet. */
export function parseS3Uri(uri: string): Pick<S3ArtifactStoreOptions, 'bucket' | 'prefix'> {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match)
    throw new ConfigError('Invalid S3 artifact store URI', {
      field: 'artifactStore',
      expected: 's3://<bucket>[/<prefix>]',
      found: uri,
    });
  return { bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
}

export function createS3ArtifactStore(options: S3ArtifactStoreOptions): never {
  throw new ConfigError(
    's3 backend not implemented yet; use a file:// artifact store (a shared network path works for several machines)',
    {
      field: 'artifactStore',
      expected: 'file://<dir>',
      found: `s3://${options.bucket}/${options.prefix}`,
    },
  );
}
