import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { wasmMemory } from 'parquet-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatasetInput } from './dataset-input';
import { writeSnapshot } from './snapshot-write';

// Its own file, so parquet-wasm's memory (which only ever grows) starts fresh in this test process.

const USERS = 20_000;
const PER_USER = 20;
const ITEMS = 2_000;

/** 400,000 rows in reverse canonical order, so the writer really sorts. */
function largeInput(): DatasetInput {
  const n = USERS * PER_USER;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const user = USERS - 1 - Math.floor(k / PER_USER);
    users[k] = user;
    items[k] = (user * 7 + (PER_USER - 1 - (k % PER_USER)) * 97) % ITEMS;
  }
  const splits = new Int8Array(n).map((_, k) => (k % PER_USER < 2 ? 1 + (k % 2) : 0));
  const ratings = new Float32Array(n).map((_, k) => 1 + (k % 5));
  const timestamps = new BigInt64Array(n).map((_, k) => BigInt(1_600_000_000 + k));
  return {
    nUsers: USERS,
    nItems: ITEMS,
    interactions: { users, items, splits, ratings, timestamps },
    categories: null,
    features: {},
    source: { kind: 'synthetic', description: 'writer memory test' },
  };
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sgfd-snapshot-memory-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the snapshot writer in row groups', () => {
  it('holds a row group, not the table, in parquet-wasm memory, and leaks none of it across writes', async () => {
    const input = largeInput();
    const tableBytes = USERS * PER_USER * 21;
    const rowGroupRows = 1 << 12;
    const before = wasmMemory().buffer.byteLength;
    const first = await writeSnapshot(input, { root: join(root, 'a'), rowGroupRows });
    const afterFirst = wasmMemory().buffer.byteLength;
    // A whole-table encoder needs the table in wasm memory at least once (8.4 MB here); row groups of
    // 4 Ki rows need about 1 MB (16 Ki: 2.3 MB, 64 Ki: 7 MB).
    expect(afterFirst - before).toBeLessThan(tableBytes / 4);

    // The allocator settles after a second write (it grew by 2 pages here); from then on a leak of
    // anything per write would show.
    const second = await writeSnapshot(input, { root: join(root, 'b'), rowGroupRows });
    expect(second.id).toBe(first.id);
    expect(wasmMemory().buffer.byteLength - before).toBeLessThan(tableBytes / 4);
    const settled = wasmMemory().buffer.byteLength;
    await writeSnapshot(input, { root: join(root, 'c'), rowGroupRows });
    expect(wasmMemory().buffer.byteLength).toBe(settled);

    const file = await readFile(join(first.dir, 'interactions.parquet'));
    const groups = parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength)).row_groups;
    expect(groups).toHaveLength(Math.ceil((USERS * PER_USER) / rowGroupRows));
    expect(groups.reduce((sum, g) => sum + Number(g.num_rows), 0)).toBe(USERS * PER_USER);
  }, 60_000);
});
