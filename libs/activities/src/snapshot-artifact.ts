import { join } from 'node:path';
import type { ArtifactRef } from '@sgfd/contracts';
import type { ArtifactStore } from '@sgfd/artifacts';
import { loadSnapshot, type LoadedDataset } from '@sgfd/data';

/** Inside a snapshot artifact, the dataset snapshot (with its own manifest.json) lives in this folder. */
export const SNAPSHOT_FOLDER = 'dataset';

/** The local directory of the dataset snapshot a snapshot artifact holds. */
export async function snapshotDir(store: ArtifactStore, ref: ArtifactRef): Promise<string> {
  return join(await store.openPath(ref), SNAPSHOT_FOLDER);
}

/** Loads the snapshot an ingest activity stored, checking every file against its sha256. */
export async function loadSnapshotArtifact(store: ArtifactStore, ref: ArtifactRef): Promise<LoadedDataset> {
  return loadSnapshot(await snapshotDir(store, ref));
}
