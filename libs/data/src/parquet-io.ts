import { readFile } from 'node:fs/promises';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { Compression, readParquet, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';
import { DatasetError } from '@sgfd/contracts';
import { readSourceFile } from './source-files';

/**
 * Arrow table -> Parquet bytes (Snappy, readable by pandas, DuckDB, Polars, hyparquet); `metadata` becomes
 * the file's key-value metadata.
 */
export function encodeParquet(table: Table, metadata?: Record<string, string>): Uint8Array {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  let builder = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setCreatedBy('sgfd');
  if (metadata) builder = builder.setKeyValueMetadata(new Map(Object.entries(metadata)));
  return writeParquet(wasmTable, builder.build());
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
