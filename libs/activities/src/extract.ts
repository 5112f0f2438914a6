// extractFeatures: a raw catalogue to a snapshot with extracted features, on its own CPU-heavy worker.
// Items are encoded in chunks through the feature cache (one `features` artifact per finished chunk, in the
// run's store, so every extract worker of an s3:// store shares it), with a heartbeat per chunk; a retry
// finds the finished chunks in the cache and encodes only what is left. The snapshot is stored once: as the
// `snapshot` artifact ingestion stores for other sources (same layout and meta), keyed by the catalogue's
// files, its settings and the code version, so an unchanged catalogue is not read again; it is the run's
// snapshot, and the workflow does not ingest it again.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import {
  DatasetError,
  type ExtractActivities,
  type ExtractFeaturesInput,
  type ExtractFeaturesResult,
  type ExtractHeartbeat,
  type RawDatasetSpec,
  type StageProgressUpdate,
} from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import { readRawTable } from '@sgfd/data';
import { failingClearly } from './failures';
import type { ProgressSink } from './progress-sink';
import { SNAPSHOT_FOLDER, snapshotMeta, snapshotResult, type SnapshotMeta } from './snapshot-artifact';

export interface ExtractDeps {
  /** Where the snapshot and the feature cache (`features` artifacts, one per finished chunk) are stored. */
  store: ArtifactStore;
  progress?: ProgressSink;
  /** Directory of the text model (default: the machine's cache or SGFD_TEXT_MODEL_DIR). */
  textModelDir?: string;
}

interface ExtractMeta extends SnapshotMeta {
  encoded: Record<string, number>;
  cached: Record<string, number>;
  failed: Record<string, number>;
  problems: { modality: string; item: string; path: string; problem: string }[];
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError('Unreadable raw catalogue table', {
      file: path,
      expected: 'a readable file',
      found: code === 'ENOENT' ? 'no such file' : String(code ?? err),
    });
  }
  return hash.digest('hex');
}

/** The catalogue's identity: its tables' content and every setting (image files are hashed by extraction). */
/**
 * Path, size and modification time of every image the items table names (`missing` for an absent one), as
 * one hash: the check make and rsync use, so an image rewritten under the same path gives a new snapshot key
 * without reading every image before the key is known (extraction then hashes contents for its cache).
 */
export async function imageFilesFingerprint(spec: RawDatasetSpec): Promise<string | null> {
  const column = spec.columns?.image;
  if (!spec.image || !column) return null;
  const itemsPath = resolve(spec.items);
  const table = await readRawTable(itemsPath, 'items table');
  const hash = createHash('sha256');
  for (const value of table.column(column)) {
    if (value === null || value === '') {
      hash.update('\0none\n');
      continue;
    }
    const path = isAbsolute(String(value)) ? String(value) : resolve(dirname(itemsPath), String(value));
    const info = await stat(path).catch(() => null);
    hash.update(`${path}\0${info ? `${info.size}\0${info.mtimeMs}` : 'missing'}\n`);
  }
  return hash.digest('hex');
}

async function catalogueIdentity(spec: RawDatasetSpec): Promise<unknown> {
  const { interactions, items, ...settings } = spec;
  return {
    kind: 'raw',
    interactions: await sha256Of(resolve(interactions)),
    items: await sha256Of(resolve(items)),
    images: await imageFilesFingerprint(spec),
    imageModel: spec.image ? await sha256Of(resolve(spec.image.model)) : null,
    settings,
  };
}

export function createExtractActivities(deps: ExtractDeps): ExtractActivities {
  return {
    async extractFeatures(input: ExtractFeaturesInput): Promise<ExtractFeaturesResult> {
      return failingClearly(async () => {
        const context = Context.current();
        const previous = context.info.heartbeatDetails as ExtractHeartbeat | undefined;
        context.heartbeat();
        const spec = input.dataset;
        const key = artifactKey({
          inputs: await catalogueIdentity(spec),
          config: null,
          codeVersion: input.codeVersion,
        });
        const started = Date.now();
        const target = context.info.workflowExecution;
        const stored = await deps.store.withArtifact<ExtractMeta>({ kind: 'snapshot', key }, async (staging) => {
          // Loaded here: ONNX Runtime and the tokenizer stay out of workers that never extract.
          const { extractDataset } = await import('@sgfd/extract');
          const result = await extractDataset({
            interactions: resolve(spec.interactions),
            items: resolve(spec.items),
            columns: spec.columns,
            categoryLevel: spec.categoryLevel,
            categorySeparator: spec.categorySeparator,
            unknownItems: spec.unknownItems,
            splitSeed: spec.splitSeed,
            extraction: {
              text: spec.text ?? {},
              ...(spec.image ? { image: { ...spec.image, model: resolve(spec.image.model) } } : {}),
            },
            textModelDir: deps.textModelDir,
            featureStore: deps.store,
            chunkSize: spec.chunkSize,
            root: staging.dir,
            signal: context.cancellationSignal,
            onProgress: (p) => {
              const beat: ExtractHeartbeat = {
                modality: p.modality,
                phase: p.phase,
                chunk: p.chunk,
                done: p.done,
                total: p.total,
              };
              context.heartbeat(beat);
              // The workflow's progress (a signal, one history event each) follows the chunks only.
              if (deps.progress && target && p.phase === 'encoding') {
                const update: StageProgressUpdate = {
                  stage: 'extract',
                  epoch: p.done,
                  maxEpochs: p.total,
                  bestValid: p.itemsPerSecond,
                  checkpointUri: null,
                  elapsedSeconds: (Date.now() - started) / 1000,
                  backend: `${p.modality} encoder`,
                };
                deps
                  .progress(target, update)
                  .catch((e: unknown) => context.log.warn('progress report failed', { error: (e as Error).message }));
              }
            },
          });
          await rename(result.dir, join(staging.dir, SNAPSHOT_FOLDER));
          const count = (pick: (s: { encoded: number; cached: number; failed: number }) => number) =>
            Object.fromEntries(Object.entries(result.stats).map(([m, s]) => [m, pick(s)]));
          return {
            ...snapshotMeta(result.manifest, input.codeVersion, input.runId),
            encoded: count((s) => s.encoded),
            cached: count((s) => s.cached),
            failed: count((s) => s.failed),
            problems: result.problems.slice(0, 100),
          };
        });
        const meta = stored.manifest.meta;
        const none = Object.fromEntries(Object.keys(meta.encoded).map((m) => [m, 0]));
        return {
          ...snapshotResult(stored),
          // A reused snapshot encoded nothing in this run.
          encoded: stored.reused ? none : meta.encoded,
          cached: stored.reused ? none : meta.cached,
          failed: meta.failed,
          resumedAfterChunk: previous && previous.phase !== 'hashing' ? previous.chunk : null,
        };
      });
    },
  };
}
