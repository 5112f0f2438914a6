import type { ArtifactKind, ArtifactRef } from '@sgfd/contracts';
import type { CheckpointSpace } from './checkpoints';
import type { ArtifactManifest } from './manifest';

/** Where an artifact lives in a store: its kind and the hash of what it was made from. */
export interface ArtifactAddress {
  kind: ArtifactKind;
  key: string;
}

/** A private, writable directory a builder fills; it becomes the artifact only if the build succeeds. */
export interface StagingArea {
  /** Local directory to write the artifact's files into (subdirectories allowed). */
  dir: string;
  /** Absolute local path for a file of the artifact (parent directories are created). */
  path(name: string): Promise<string>;
}

export interface StoredArtifact<M = unknown> {
  /** Points at the artifact as a whole: uri of its directory, sha256 and size of its manifest. */
  ref: ArtifactRef;
  manifest: ArtifactManifest & { meta: M };
  /** True when an existing artifact was returned and the build did not run. */
  reused: boolean;
}

/**
 * A content-addressed store of immutable artifacts (a directory of files plus a manifest), addressed by
 * (kind, key) where key = artifactKey(inputs, config, code version). Backends: file:// (FileArtifactStore)
 * and s3:// (S3ArtifactStore).
 */
export interface ArtifactStore {
  /** The store's root as a URI, e.g. file:///home/me/repo/.sgfd/artifacts */
  readonly rootUri: string;

  /** Where running trainings keep checkpoints, reachable by every worker of the store. */
  readonly checkpoints: CheckpointSpace;

  /**
   * Returns the artifact at `address` if its manifest exists; otherwise runs `build` in a staging area,
   * hashes what it wrote, writes the manifest last and publishes everything in one atomic step. A build
   * that throws (or a process that dies) leaves nothing visible.
   */
  withArtifact<M>(address: ArtifactAddress, build: (staging: StagingArea) => Promise<M>): Promise<StoredArtifact<M>>;

  /** Stores the given files (name -> bytes or text) as one artifact; a no-op if it already exists. */
  put<M = null>(
    address: ArtifactAddress,
    files: Record<string, Uint8Array | string>,
    meta?: M,
  ): Promise<StoredArtifact<M | null>>;

  /** The complete artifact at `address`, or undefined. */
  find(address: ArtifactAddress): Promise<StoredArtifact | undefined>;

  exists(target: ArtifactAddress | ArtifactRef): Promise<boolean>;

  /** Bytes of one file of an artifact, checked against the sha256 in its manifest. */
  get(ref: ArtifactRef, file: string): Promise<Uint8Array>;

  /** A local filesystem path of one file (or the directory) of an artifact, for libraries that open paths. */
  openPath(ref: ArtifactRef, file?: string): Promise<string>;

  readManifest(ref: ArtifactRef): Promise<ArtifactManifest>;

  /** Complete artifacts whose "<kind>/<key>" starts with `prefix` ('' for all, 'teacher/' for one kind). */
  list(prefix?: string): Promise<ArtifactRef[]>;

  /** Removes an artifact; it stops being visible first (manifest removed), then its files go. */
  delete(target: ArtifactAddress | ArtifactRef): Promise<boolean>;
}
