import { open, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  type Data,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  tableFromIPC,
  Type,
} from 'apache-arrow';
import { DatasetError } from '@sgfd/contracts';
import type { FeatureMatrix } from './types';

export const FEATURE_COLUMN = 'feature';

/**
 * Writes a feature matrix as an Arrow IPC file with columns `item` (int32) and `feature`
 * (FixedSizeList<float32>[dim]) in a single record batch, so a reader gets one contiguous float buffer.
 * The matrix is streamed to disk without copying it; the sha256 is computed on the way.
 */
export async function writeFeatureIpc(path: string, matrix: FeatureMatrix): Promise<{ sha256: string; bytes: number }> {
  const { rows, dim, data } = matrix;
  const listType = new FixedSizeList(dim, new Field('value', new Float32(), false));
  const schema = new Schema([new Field('item', new Int32(), false), new Field(FEATURE_COLUMN, listType, false)]);
  const itemIds = new Int32Array(rows);
  for (let i = 0; i < rows; i++) itemIds[i] = i;
  const values = makeData({ type: new Float32(), length: rows * dim, data });
  const features = makeData({ type: listType, length: rows, nullCount: 0, child: values });
  const items = makeData({ type: new Int32(), length: rows, data: itemIds });
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [items, features] }),
  );
  const hash = createHash('sha256');
  let bytes = 0;
  const file = await open(path, 'wx');
  try {
    for await (const chunk of RecordBatchFileWriter.writeAll([batch])) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      await file.write(chunk);
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Reads a feature file written by writeFeatureIpc; the Float32Array is a view of the file's bytes. */
export async function readFeatureIpc(path: string, expectedDim?: number): Promise<FeatureMatrix> {
  // A Buffer is a Uint8Array: no copy (new Uint8Array(buffer) would copy the whole file).
  return decodeFeatureIpc(await readFile(path), path, expectedDim);
}

export function decodeFeatureIpc(bytes: Uint8Array, path: string, expectedDim?: number): FeatureMatrix {
  let table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    throw new DatasetError('Unreadable feature file', {
      file: path,
      expected: 'an Arrow IPC file',
      found: String(err),
    });
  }
  const column = table.getChild(FEATURE_COLUMN);
  if (!column || column.type.typeId !== Type.FixedSizeList) {
    throw new DatasetError('Feature file has no feature column', {
      file: path,
      field: FEATURE_COLUMN,
      expected: 'FixedSizeList<float32>',
      found: column ? String(column.type) : 'no such column',
    });
  }
  const dim = (column.type as FixedSizeList).listSize;
  if (expectedDim !== undefined && dim !== expectedDim) {
    throw new DatasetError('Feature dim differs from the manifest', {
      file: path,
      field: FEATURE_COLUMN,
      expected: String(expectedDim),
      found: String(dim),
    });
  }
  const rows = table.numRows;
  let data: Float32Array;
  if (column.data.length === 1) {
    data = chunkValues(column.data[0], dim);
  } else {
    data = new Float32Array(rows * dim);
    let at = 0;
    for (const chunk of column.data) {
      data.set(chunkValues(chunk, dim), at);
      at += chunk.length * dim;
    }
  }
  return { rows, dim, data };
}

function chunkValues(chunk: Data, dim: number): Float32Array {
  const child = chunk.children[0];
  const start = chunk.offset * dim + child.offset;
  return (child.values as Float32Array).subarray(start, start + chunk.length * dim);
}
