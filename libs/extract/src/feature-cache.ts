// Encoded features, kept per encoder key (the encoder and every setting that changes its output) and looked
// up by item content hash, so an item already encoded with the same encoder and settings is never encoded
// again: a re-run encodes nothing, a grown catalogue only its new or changed items. They live in the
// artifact store (file:// or s3://, whatever the workers share): each finished chunk is one immutable
// `features` artifact holding one Arrow IPC file of (content hash, feature). A chunk is published whole or
// not at all, which is also what a retried extraction resumes from.
//
// Artifact keys are 64 hex characters, so a chunk's key is the first half of its encoder key followed by
// the first half of the hash of the chunk's item hashes: `list('features/<first half>')` finds every chunk
// of one encoder key on any backend, and two workers that encode the same chunk publish the same artifact.
// The full encoder key is in each file's schema metadata and is checked when a chunk is read.
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  tableFromIPC,
  tableToIPC,
  Table,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { sha256Hex, type ArtifactStore } from '@sgfd/artifacts';
import { DatasetError, type ArtifactRef } from '@sgfd/contracts';

/** The file of a `features` artifact. */
export const FEATURE_CHUNK_FILE = 'features.arrow';
const ENCODER_KEY_METADATA = 'sgfd.encoderKey';
/** Hex characters of the encoder key that start a chunk's artifact key. */
const ENCODER_PREFIX = 32;
/** Chunks read at once when a cache is opened (each is a small download from an s3:// store). */
const PARALLEL_READS = 8;

/** What a `features` artifact's manifest carries besides its file. */
export interface FeatureChunkMeta {
  encoderKey: string;
  items: number;
  dim: number;
}

/** The artifact key of the chunk of `encoderKey` that holds the features of `hashes`. */
export function featureChunkKey(encoderKey: string, hashes: readonly string[]): string {
  return encoderKey.slice(0, ENCODER_PREFIX) + sha256Hex(hashes.join('\n')).slice(0, 64 - ENCODER_PREFIX);
}

export class FeatureCache {
  private constructor(
    private readonly store: ArtifactStore,
    readonly encoderKey: string,
    private width: number | null,
    private readonly byHash: Map<string, Float32Array>,
    /** The chunks read when the cache was opened. */
    readonly chunks: number,
  ) {}

  /** Reads every published chunk of one encoder key from the store. */
  static async open(store: ArtifactStore, encoderKey: string): Promise<FeatureCache> {
    if (!/^[0-9a-f]{64}$/.test(encoderKey)) throw new TypeError(`encoder key ${encoderKey} is not a hex sha256`);
    const refs = await store.list(`features/${encoderKey.slice(0, ENCODER_PREFIX)}`);
    const byHash = new Map<string, Float32Array>();
    let dim: number | null = null;
    let chunks = 0;
    for (let i = 0; i < refs.length; i += PARALLEL_READS) {
      const read = await Promise.all(refs.slice(i, i + PARALLEL_READS).map((ref) => readChunk(store, ref, encoderKey)));
      for (const chunk of read) {
        if (!chunk) continue;
        if (dim !== null && chunk.dim !== dim) {
          throw new DatasetError('Feature cache chunks of one encoder differ in width', {
            file: chunk.uri,
            expected: `${dim}-d features`,
            found: `${chunk.dim}-d`,
          });
        }
        dim = chunk.dim;
        chunks++;
        chunk.hashes.forEach((hash, r) =>
          byHash.set(hash, chunk.features.subarray(r * chunk.dim, (r + 1) * chunk.dim)),
        );
      }
    }
    return new FeatureCache(store, encoderKey, dim, byHash, chunks);
  }

  /** The features' width: known once a chunk is stored; null for an empty cache. */
  get dim(): number | null {
    return this.width;
  }

  get(hash: string): Float32Array | undefined {
    return this.byHash.get(hash);
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Publishes one finished chunk (row-major `dim`-wide features of `hashes`) as one immutable artifact. */
  async putChunk(hashes: string[], features: Float32Array, dim: number): Promise<void> {
    if (hashes.length === 0) return;
    if (this.width !== null && dim !== this.width)
      throw new TypeError(`feature cache: a ${dim}-d chunk for ${this.width}-d features`);
    const listType = new FixedSizeList(dim, new Field('value', new Float32(), false));
    const schema = new Schema(
      [new Field('hash', new Utf8(), false), new Field('feature', listType, false)],
      new Map([[ENCODER_KEY_METADATA, this.encoderKey]]),
    );
    const values = makeData({ type: new Float32(), length: hashes.length * dim, data: features });
    const batch = new RecordBatch(
      schema,
      makeData({
        type: new Struct(schema.fields),
        length: hashes.length,
        nullCount: 0,
        children: [
          vectorFromArray(hashes, new Utf8()).data[0]!,
          makeData({ type: listType, length: hashes.length, nullCount: 0, child: values }),
        ],
      }),
    );
    const meta: FeatureChunkMeta = { encoderKey: this.encoderKey, items: hashes.length, dim };
    await this.store.put(
      { kind: 'features', key: featureChunkKey(this.encoderKey, hashes) },
      { [FEATURE_CHUNK_FILE]: tableToIPC(new Table(batch), 'file') },
      meta,
    );
    this.width = dim;
    hashes.forEach((hash, r) => this.byHash.set(hash, features.slice(r * dim, (r + 1) * dim)));
  }
}

interface Chunk {
  uri: string;
  dim: number;
  hashes: string[];
  features: Float32Array;
}

/** One chunk's rows, or null when it belongs to another encoder key that shares the first half of this one. */
async function readChunk(store: ArtifactStore, ref: ArtifactRef, encoderKey: string): Promise<Chunk | null> {
  const table = tableFromIPC(await store.get(ref, FEATURE_CHUNK_FILE));
  if (table.schema.metadata.get(ENCODER_KEY_METADATA) !== encoderKey) return null;
  const hashes = table.getChild('hash');
  const feature = table.getChild('feature');
  const type = feature?.type as FixedSizeList | undefined;
  if (!hashes || !feature || !(type instanceof FixedSizeList)) {
    throw new DatasetError('Not a feature cache chunk', {
      file: `${ref.uri}/${FEATURE_CHUNK_FILE}`,
      expected: 'columns hash (utf8) and feature (fixed-size list of float32)',
      found: table.schema.fields.map((f) => `${f.name} (${f.type})`).join(', '),
    });
  }
  const dim = type.listSize;
  const features = new Float32Array(table.numRows * dim);
  let offset = 0;
  for (const data of feature.data) {
    const values = data.children[0]!;
    const rows = values.values as Float32Array;
    const start = (values.offset + data.offset * dim) | 0;
    features.set(rows.subarray(start, start + data.length * dim), offset);
    offset += data.length * dim;
  }
  return { uri: ref.uri, dim, hashes: Array.from(hashes, (h) => String(h)), features };
}
