import { readFile } from 'node:fs/promises';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import {
  Compression,
  readParquet,
  Table as WasmTable,
  transformParquetStream,
  writeParquet,
  WriterPropertiesBuilder,
} from 'parquet-wasm';
import { DatasetError } from '@sgfd/contracts';
import { readSourceFile } from './source-files';

const writerProperties = (rowGroupRows?: number, metadata?: Record<string, string>) => {
  let builder = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setCreatedBy('sgfd');
  if (metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(metadata)));
  return (rowGroupRows === undefined ? builder : builder.setMaxRowGroupSize(rowGroupRows)).build();
};

/**
 * Arrow table -> Parquet bytes (Snappy, readable by pandas, DuckDB, Polars, hyparquet); `metadata` becomes
 * the file's key-value metadata.
 */
export function encodeParquet(table: Table, metadata?: Record<string, string>): Uint8Array {
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), writerProperties(undefined, metadata));
}

/**
 * Arrow tables of one schema -> the bytes of one Parquet file, each table a row group of at most
 * `rowGroupRows` rows (Snappy, as encodeParquet). A table is converted only when the encoder asks for it
 * and the bytes come out a row group at a time, so neither side ever holds the whole file: memory is a
 * few row groups, whatever the row count.
 */
export async function* encodeParquetInRowGroups(
  tables: Iterable<Table>,
  rowGroupRows: number,
): AsyncGenerator<Uint8Array> {
  const source = tables[Symbol.iterator]();
  // Set when our reader stops early (a failed write): the encoder is then given no more tables.
  let stopped = false;
  const batches = new ReadableStream(
    {
      pull(controller) {
        const next = stopped ? { done: true as const } : source.next();
        if (next.done) {
          controller.close();
          return;
        }
        const wasmTable = WasmTable.fromIPCStream(tableToIPC(next.value, 'stream'));
        for (const batch of wasmTable.recordBatches()) controller.enqueue(batch);
        wasmTable.free();
      },
    },
    // Nothing is converted ahead of the encoder's request.
    { highWaterMark: 0 },
  );
  const bytes = (await transformParquetStream(batches, writerProperties(rowGroupRows))) as ReadableStream<Uint8Array>;
  try {
    for await (const chunk of bytes) yield chunk;
  } finally {
    stopped = true;
  }
}

/** Parquet bytes -> Arrow table; `file` names the source in the error when the bytes are not Parquet. */
export function decodeParquet(bytes: Uint8Array, file: string): Table {
  let ipc: Uint8Array;
  try {
    ipc = readParquet(bytes).intoIPCStream();
  } catch (err) {
    throw new DatasetError('Not a readable Parquet file', {
      file,
      expected: 'a Parquet file',
      found: err instanceof Error ? err.message : String(err),
    });
  }
  return tableFromIPC(ipc);
}

export async function readParquetTable(path: string, what = 'Parquet file'): Promise<Table> {
  return decodeParquet(await readSourceFile(path, what), path);
}

/** Reads a snapshot's own Parquet file (no user-facing source naming needed beyond the path). */
export async function readSnapshotParquet(path: string): Promise<Table> {
  return decodeParquet(await readFile(path), path);
}
