import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { IngestActivities, IngestDatasetInput, IngestDatasetResult } from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import { writeSnapshot } from '@sgfd/data';
import { readDatasetSource, sourceIdentity } from './dataset-source';
import { failingClearly } from './failures';
import { SNAPSHOT_FOLDER, snapshotMeta, snapshotResult, type SnapshotMeta } from './snapshot-artifact';

export interface IngestDeps {
  store: ArtifactStore;
}

/**
 * Ingestion: reads the source (synthetic generator, snapshot, MMRec or Parquet folder), validates it and
 * stores it as a snapshot artifact keyed by the source's identity and the code version. A source already
 * ingested is not read again.
 */
export function createIngestActivities(deps: IngestDeps): IngestActivities {
  return {
    async ingestDataset(input: IngestDatasetInput): Promise<IngestDatasetResult> {
      return failingClearly(async () => {
        const context = Context.current();
        context.heartbeat();
        const identity = await sourceIdentity(input.dataset);
        const key = artifactKey({ inputs: identity, config: null, codeVersion: input.codeVersion });
        const stored = await deps.store.withArtifact<SnapshotMeta>({ kind: 'snapshot', key }, async (staging) => {
          const data = await readDatasetSource(input.dataset);
          context.heartbeat();
          const written = await writeSnapshot(data, { root: staging.dir });
          await rename(written.dir, join(staging.dir, SNAPSHOT_FOLDER));
          return snapshotMeta(written.manifest, input.codeVersion, input.runId);
        });
        return snapshotResult(stored);
      });
    },
  };
}
