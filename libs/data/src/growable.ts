type Column = Int32Array | Int8Array | Float32Array | BigInt64Array;

/** A copy of `column` with `length` elements (the first ones kept). */
export function resized<T extends Column>(column: T, length: number): T {
  if (column.length === length) return column;
  const out = new (column.constructor as new (n: number) => T)(length);
  out.set(column.subarray(0, Math.min(length, column.length)) as never);
  return out;
}

/**
 * The first `length` elements as a view, for handing filled columns on. The capacity beyond them was
 * allocated zeroed and never written, so its pages are not resident: a view costs no memory, while a
 * copy would need the column twice at the peak.
 */
export function trimmed<T extends Column>(column: T, length: number): T {
  return column.subarray(0, length) as T;
}

/** Rows counted before the capacity is sized from the average line length seen so far. */
const SAMPLE_ROWS = 4096;

/**
 * Capacity planning for columns filled from a text file of known size: after a sample of rows, the
 * capacity becomes the file's expected row count (+5 %), so a uniform file is read with one resize and
 * no doubling; a file whose later lines are shorter grows by a quarter at a time.
 */
export function nextCapacity(rows: number, charsSoFar: number, fileBytes: number, capacity: number): number {
  if (rows === SAMPLE_ROWS && charsSoFar > 0) {
    const expected = Math.ceil((fileBytes / charsSoFar) * rows * 1.05) + 1024;
    if (expected > capacity) return expected;
  }
  return rows < capacity ? capacity : Math.ceil(capacity * 1.25) + 1024;
}

export const INITIAL_ROWS = SAMPLE_ROWS;
