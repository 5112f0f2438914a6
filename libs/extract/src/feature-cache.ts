// Encoded features, kept per encoder and settings and looked up by item content hash, so an item already
// encoded with the same encoder and settings is never encoded again (a re-run encodes nothing; a grown
// catalogue encodes only its new or changed items). One Arrow IPC file per finished chunk, written under a
// temp name and renamed: a chunk is either wholly there or absent, which is also what a retried extraction
// resumes from.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  tableFromIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { EnvironmentError } from '@sgfd/contracts';

const CHUNK_SUFFIX = '.arrow';

export class FeatureCache {
  private constructor(
    /** `<root>/<encoder key>`: every chunk of one encoder with one set of settings. */
    readonly dir: string,
    readonly dim: number,
    private readonly byHash: Map<string, Float32Array>,
  ) {}

  /** Opens (creating if needed) the cache of one encoder key and reads every finished chunk. */
  static async open(root: string, encoderKey: string, dim: number): Promise<FeatureCache> {
    const dir = join(root, encoderKey);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new EnvironmentError('Cannot create the feature cache', {
        file: dir,
        expected: 'a writable directory (set --cache or SGFD_ARTIFACTS)',
        found: (err as Error).message,
      });
    }
    const byHash = new Map<string, Float32Array>();
    for (const name of (await readdir(dir)).sort()) {
      if (!name.endsWith(CHUNK_SUFFIX) || name.startsWith('.')) continue;
      const table = tableFromIPC(await readFile(join(dir, name)));
      const hashes = table.getChild('hash')!;
      const features = table.getChild('feature')!;
      for (let r = 0; r < table.numRows; r++) {
        const row = features.get(r) as { toArray(): Float32Array } | null;
        if (row) byHash.set(String(hashes.get(r)), Float32Array.from(row.toArray()));
      }
    }
    return new FeatureCache(dir, dim, byHash);
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

  /** Stores one finished chunk (row-major features of `hashes`) as one file, atomically. */
  async putChunk(hashes: string[], features: Float32Array): Promise<void> {
    if (hashes.length === 0) return;
    const dim = this.dim;
    const listType = new FixedSizeList(dim, new Field('value', new Float32(), false));
    const schema = new Schema([new Field('hash', new Utf8(), false), new Field('feature', listType, false)]);
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
    const name = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const tmp = join(this.dir, `.${name}.tmp`);
    try {
      const file = await open(tmp, 'wx');
      try {
        for await (const chunk of RecordBatchFileWriter.writeAll([batch])) await file.write(chunk);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, join(this.dir, `${name}${CHUNK_SUFFIX}`));
    } catch (err) {
      await rm(tmp, { force: true });
      throw new EnvironmentError('Cannot write to the feature cache', {
        file: this.dir,
        expected: 'a writable directory with free space',
        found: (err as Error).message,
      });
    }
    hashes.forEach((hash, r) => this.byHash.set(hash, features.slice(r * dim, (r + 1) * dim)));
  }
}
