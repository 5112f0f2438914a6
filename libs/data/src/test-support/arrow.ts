import { Field, Float32, Float64, List, vectorFromArray, type Vector } from 'apache-arrow';

/** A list<float32> (or list<float64>) Arrow column from plain rows. */
export function listColumn(rows: (number[] | null)[], float64 = false): Vector<List<Float32 | Float64>> {
  const type = new List<Float32 | Float64>(new Field('element', float64 ? new Float64() : new Float32(), true));
  return vectorFromArray(rows, type);
}

/** Writes a Parquet file of plain typed-array columns (lists of floats via `listColumn`). */
export async function writeParquetTable(
  path: string,
  columns: Record<string, ArrayBufferView | Vector>,
): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const { encodeParquet } = await import('../parquet-io');
  const { makeVector, Table } = await import('apache-arrow');
  const vectors = Object.fromEntries(
    Object.entries(columns).map(([name, c]) => [name, ArrayBuffer.isView(c) ? makeVector(c as Int32Array) : c]),
  );
  await writeFile(path, encodeParquet(new Table(vectors)));
}
