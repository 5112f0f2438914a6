import { join } from 'node:path';
import type { ArtifactRef, DatasetManifest, IngestDatasetResult } from '@sgfd/contracts';
import type { ArtifactStore, StoredArtifact } from '@sgfd/artifacts';
import { loadSnapshot, type LoadedDataset } from '@sgfd/data';

/** Inside a snapshot artifact, the dataset snapshot (with its own manifest.json) lives in this folder. */
export const SNAPSHOT_FOLDER = 'dataset';

/**
 * What a snapshot artifact's manifest carries besides its files, whichever stage stored it (ingest, or
 * extract for a raw catalogue).
 */
export interface SnapshotMeta {
  datasetId: string;
  counts: IngestDatasetResult['counts'];
  categories: number | null;
  modalities: string[];
  source: string;
  codeVersion: string;
  createdBy: string;
}

export function snapshotMeta(manifest: DatasetManifest, codeVersion: string, runId: string): SnapshotMeta {
  return {
    datasetId: manifest.id,
    counts: manifest.counts,
    categories: manifest.categories,
    modalities: manifest.modalities.map((m) => m.name),
    source: manifest.source.description,
    codeVersion,
    createdBy: runId,
  };
}

/** The stage result that names a stored snapshot artifact. */
export function snapshotResult(stored: StoredArtifact<SnapshotMeta>): IngestDatasetResult {
  const meta = stored.manifest.meta;
  return {
    snapshot: stored.ref,
    datasetId: meta.datasetId,
    counts: meta.counts,
    categories: meta.categories,
    modalities: meta.modalities,
    reused: stored.reused,
  };
}

/** The local directory of the dataset snapshot a snapshot artifact holds. */
export async function snapshotDir(store: ArtifactStore, ref: ArtifactRef): Promise<string> {
  return join(await store.openPath(ref), SNAPSHOT_FOLDER);
}

/** Loads the snapshot an ingest activity stored, checking every file against its sha256. */
export async function loadSnapshotArtifact(store: ArtifactStore, ref: ArtifactRef): Promise<LoadedDataset> {
  return loadSnapshot(await snapshotDir(store, ref));
}
