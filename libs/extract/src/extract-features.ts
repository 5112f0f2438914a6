// Feature extraction of a catalogue: per modality, every item's content is hashed; items whose hash the
// feature cache (per encoder and settings, in the artifact store) already holds are taken from it, the
// others are encoded in chunks, each finished chunk published to the cache before the next starts. A retry
// after a crash therefore resumes after the last finished chunk, and a re-run of the same catalogue encodes
// nothing.
import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@sgfd/artifacts';
import { DatasetError, type Modality } from '@sgfd/contracts';
import type { CatalogueItems, FeatureMatrix } from '@sgfd/data';
import { FeatureCache } from './feature-cache';
import type { ModalityEncoder } from './modality-encoder';

export interface ExtractProgress {
  modality: Modality;
  /**
   * `hashing`: the pass over every item's content (reading every image file) that finds what the cache
   * lacks, reported every `chunkSize` items and at least every few seconds; `encoding`: once per chunk.
   */
  phase: 'hashing' | 'encoding';
  /** Items of this modality hashed so far, or handled so far (from the cache or encoded), of `total`. */
  done: number;
  total: number;
  /** Chunks finished by this call, of the chunks it has to encode (both 0 while hashing). */
  chunk: number;
  chunks: number;
  itemsPerSecond: number | null;
  etaSeconds: number | null;
}

export interface ModalityStats {
  items: number;
  /** Items encoded by this call (distinct contents). */
  encoded: number;
  /** Items whose features came from the cache. */
  cached: number;
  /** Items without a usable input (missing or undecodable image): they get the mean feature. */
  failed: number;
  dim: number;
  /** Whether the model was loaded: only when at least one item had to be encoded. */
  modelLoaded: boolean;
  /** The encoder and its settings, as keyed in the cache. */
  settings: Record<string, unknown>;
}

/** An item whose input could not be used, by its id and file. */
export interface ItemProblem {
  modality: Modality;
  item: string;
  path: string;
  problem: string;
}

export interface ExtractOptions {
  /** Where the feature cache lives: one `features` artifact per finished chunk (see FeatureCache). */
  featureStore: ArtifactStore;
  /** Items encoded per chunk (one cache artifact, one progress report, one heartbeat). */
  chunkSize?: number;
  /** Progress while hashing and per finished chunk: where an activity heartbeats. */
  onProgress?: (progress: ExtractProgress) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface ExtractResult {
  features: Partial<Record<Modality, FeatureMatrix>>;
  stats: Partial<Record<Modality, ModalityStats>>;
  problems: ItemProblem[];
}

export const DEFAULT_CHUNK_SIZE = 256;
/** The hashing pass reports progress at least this often (hashing large image files can take long). */
export const HASHING_PROGRESS_MS = 5_000;

export function encoderKey(encoder: ModalityEncoder): string {
  return createHash('sha256')
    .update(JSON.stringify({ modality: encoder.modality, ...encoder.identity }))
    .digest('hex');
}

export async function extractFeatures(
  items: CatalogueItems,
  encoders: ModalityEncoder[],
  options: ExtractOptions,
): Promise<ExtractResult> {
  const result: ExtractResult = { features: {}, stats: {}, problems: [] };
  for (const encoder of encoders) {
    const { matrix, stats, problems } = await extractModality(items, encoder, options);
    result.features[encoder.modality] = matrix;
    result.stats[encoder.modality] = stats;
    result.problems.push(...problems);
  }
  return result;
}

async function extractModality(
  items: CatalogueItems,
  encoder: ModalityEncoder,
  options: ExtractOptions,
): Promise<{ matrix: FeatureMatrix; stats: ModalityStats; problems: ItemProblem[] }> {
  const n = items.ids.length;
  const { modality } = encoder;
  const cache = await FeatureCache.open(options.featureStore, encoderKey(encoder));
  const hashes: (string | null)[] = new Array(n).fill(null);
  const problems: ItemProblem[] = [];
  const pending = new Map<string, unknown>();
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let cachedItems = 0;
  const hashingStarted = Date.now();
  let reported = hashingStarted;
  for (let i = 0; i < n; i++) {
    options.signal?.throwIfAborted();
    const prepared = await encoder.prepare(items, i);
    if ('problem' in prepared) {
      problems.push({ modality, item: items.ids[i]!, path: prepared.path, problem: prepared.problem });
    } else {
      hashes[i] = prepared.hash;
      if (cache.has(prepared.hash)) cachedItems++;
      else if (!pending.has(prepared.hash)) pending.set(prepared.hash, prepared.input);
    }
    // The same progress as the chunks' (an activity heartbeats on it): a long hashing pass is not silence.
    const now = Date.now();
    if ((i + 1) % chunkSize === 0 || i + 1 === n || now - reported >= HASHING_PROGRESS_MS) {
      reported = now;
      const seconds = (now - hashingStarted) / 1000;
      const rate = seconds > 0 ? (i + 1) / seconds : null;
      await options.onProgress?.({
        modality,
        phase: 'hashing',
        done: i + 1,
        total: n,
        chunk: 0,
        chunks: 0,
        itemsPerSecond: rate,
        etaSeconds: rate ? (n - i - 1) / rate : null,
      });
    }
  }
  const todo = [...pending.entries()];
  // The model is loaded only when something must be encoded; a fully cached run takes the width from the cache.
  const model = todo.length > 0 ? await encoder.load() : null;
  if (model && cache.dim !== null && model.dim !== cache.dim) {
    throw new DatasetError(`The ${modality} model gives features of another width than its cache`, {
      file: items.file,
      expected: `${cache.dim}-d features (the feature cache of this encoder and settings)`,
      found: `${model.dim}-d`,
    });
  }
  const dim = model?.dim ?? cache.dim;
  const chunks = Math.ceil(todo.length / chunkSize);
  const failedHashes = new Map<string, string>();
  const started = Date.now();
  const fromCache = n - todo.length;
  for (let c = 0; c < chunks; c++) {
    options.signal?.throwIfAborted();
    const part = todo.slice(c * chunkSize, (c + 1) * chunkSize);
    const { features, failed } = await model!.encode(part.map(([, input]) => input));
    const w = model!.dim;
    const bad = new Set(failed.map((f) => f.index));
    for (const f of failed) failedHashes.set(part[f.index]![0], f.problem);
    const keep = part.map((_, r) => r).filter((r) => !bad.has(r));
    const kept = new Float32Array(keep.length * w);
    keep.forEach((r, k) => kept.set(features.subarray(r * w, (r + 1) * w), k * w));
    await cache.putChunk(
      keep.map((r) => part[r]![0]),
      kept,
      w,
    );
    const encodedSoFar = Math.min((c + 1) * chunkSize, todo.length);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? encodedSoFar / seconds : null;
    await options.onProgress?.({
      modality,
      phase: 'encoding',
      done: fromCache + encodedSoFar,
      total: n,
      chunk: c + 1,
      chunks,
      itemsPerSecond: rate,
      etaSeconds: rate ? (todo.length - encodedSoFar) / rate : null,
    });
  }
  for (let i = 0; i < n; i++) {
    const problem = hashes[i] ? failedHashes.get(hashes[i]!) : undefined;
    if (problem) {
      problems.push({ modality, item: items.ids[i]!, path: itemPath(items, i), problem });
      hashes[i] = null;
    }
  }
  const width = dim ?? 0;
  const data = new Float32Array(n * width);
  const mean = new Float64Array(width);
  let good = 0;
  for (let i = 0; i < n; i++) {
    const row = hashes[i] ? cache.get(hashes[i]!) : undefined;
    if (!row) continue;
    data.set(row, i * width);
    for (let d = 0; d < width; d++) mean[d] += row[d]!;
    good++;
  }
  if (good === 0 || dim === null) {
    throw new DatasetError(`No item has a usable ${modality} input`, {
      file: items.file,
      expected: `at least one readable ${modality} input`,
      found: `${problems.length} problems, the first: ${problems[0]?.path ?? '?'}: ${problems[0]?.problem ?? '?'}`,
    });
  }
  // Items without a usable input get the mean feature of the others, as MMRec does.
  const meanRow = Float32Array.from(mean, (v) => v / good);
  for (let i = 0; i < n; i++) if (!hashes[i]) data.set(meanRow, i * dim);
  return {
    matrix: { rows: n, dim, data },
    stats: {
      items: n,
      encoded: todo.length - failedHashes.size,
      cached: cachedItems,
      failed: problems.length,
      dim,
      modelLoaded: model !== null,
      settings: encoder.identity,
    },
    problems,
  };
}

function itemPath(items: CatalogueItems, i: number): string {
  return items.images?.[i] ?? items.file;
}
