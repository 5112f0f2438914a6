import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from '@sgfd/contracts';

/** A named array with its shape, as stored in a tensor file. */
export interface StoredArray {
  shape: number[];
  data: Float32Array | Int32Array;
}
export type StoredArrays = Record<string, StoredArray>;

interface Entry {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  /** Byte offset in the binary file. */
  offset: number;
  length: number;
}

interface Index {
  format: 'sgfd-tensors';
  version: 1;
  /** The binary file, named by its content hash so the index is the one commit point. */
  file: string;
  sha256: string;
  entries: Entry[];
  meta: unknown;
}

const FORMAT = 'sgfd-tensors';

/**
 * The index is `<base>.tensors.json`: a plain `<base>.json` (`model.json` for a model) looked like TF.js's
 * model format, which it is not. Folders written before keep `<base>.json` and stay readable.
 */
const INDEX_SUFFIX = '.tensors.json';
const LEGACY_INDEX_SUFFIX = '.json';

/** Path of the index of `base` in `dir`: the current name, or the pre-rename one when only that exists. */
export function tensorIndexPath(dir: string, base: string): string {
  const current = join(dir, `${base}${INDEX_SUFFIX}`);
  const legacy = join(dir, `${base}${LEGACY_INDEX_SUFFIX}`);
  return !existsSync(current) && existsSync(legacy) ? legacy : current;
}

/** Whether `dir` holds a tensor file of `base` (either index name). */
export function hasTensorFile(dir: string, base: string): boolean {
  return existsSync(tensorIndexPath(dir, base));
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Writes arrays as `<base>-<hash>.bin` plus the JSON index `<base>.tensors.json` (written last, by rename), so
 * a reader sees either the old complete set or the new one, never a mix. Older binaries and a pre-rename
 * index of `base` go.
 */
export async function writeTensorFile(
  dir: string,
  base: string,
  arrays: StoredArrays,
  meta: unknown = null,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of Object.entries(arrays)) {
    if (product(shape) !== data.length) {
      throw new Error(`tensor '${name}': shape [${shape}] does not match ${data.length} values`);
    }
    entries.push({ name, dtype: data instanceof Int32Array ? 'int32' : 'float32', shape, offset, length: data.length });
    offset += data.byteLength;
  }
  const bytes = new Uint8Array(offset);
  for (const entry of entries) {
    const { data } = arrays[entry.name];
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), entry.offset);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = `${base}-${sha256.slice(0, 16)}.bin`;
  await writeAtomic(join(dir, file), bytes);
  const index: Index = { format: FORMAT, version: 1, file, sha256, entries, meta };
  await writeAtomic(join(dir, `${base}${INDEX_SUFFIX}`), `${JSON.stringify(index, null, 1)}\n`);
  await rm(join(dir, `${base}${LEGACY_INDEX_SUFFIX}`), { force: true });
  for (const name of await readdir(dir)) {
    if (name !== file && name.startsWith(`${base}-`) && name.endsWith('.bin'))
      await rm(join(dir, name), { force: true });
  }
}

export async function readTensorFile(dir: string, base: string): Promise<{ arrays: StoredArrays; meta: unknown }> {
  const indexPath = tensorIndexPath(dir, base);
  let index: Index;
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8')) as Index;
  } catch (error) {
    throw new DatasetError(`Cannot read tensor index: ${(error as Error).message}`, { file: indexPath });
  }
  if (index.format !== FORMAT || index.version !== 1 || !Array.isArray(index.entries)) {
    throw new DatasetError('Not an sgfd tensor index', { file: indexPath, expected: `format '${FORMAT}' version 1` });
  }
  const binPath = join(dir, index.file);
  const buffer = await readFile(binPath).catch((error: Error) => {
    throw new DatasetError(`Cannot read tensor data: ${error.message}`, { file: binPath });
  });
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  if (sha256 !== index.sha256) {
    throw new DatasetError('Tensor data does not match its index', {
      file: binPath,
      expected: `sha256 ${index.sha256}`,
      found: sha256,
    });
  }
  // Copy into an aligned buffer: readFile's Buffer may start at any byte offset of a shared pool.
  const bytes = new Uint8Array(buffer.byteLength);
  bytes.set(buffer);
  const arrays: StoredArrays = {};
  for (const e of index.entries) {
    const Ctor = e.dtype === 'int32' ? Int32Array : Float32Array;
    arrays[e.name] = { shape: e.shape, data: new Ctor(bytes.buffer, e.offset, e.length) };
  }
  return { arrays, meta: index.meta };
}
