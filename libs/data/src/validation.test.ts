import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError, EnvironmentError, type UserError } from '@sgfd/contracts';
import type { DatasetInput } from './dataset-input';
import { importMmrec } from './mmrec-import';
import { writeSnapshot } from './snapshot-write';
import { writeMmrecFolder } from './test-support/mmrec-folder';

/**
 * The library side of bad input: what the CLI cannot reach. Every file-level case (a corpus of hostile
 * inputs, each through the real CLI) is in apps/cli/src/hostile-inputs.test.ts.
 */

let work: string;
let root: string;
let folder: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-validation-'));
  root = join(work, 'snapshots');
  await mkdir(root);
  folder = join(work, 'dataset');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function expectRejected(
  run: () => Promise<unknown>,
  errorType: abstract new (...args: never[]) => UserError,
  patterns: RegExp[],
  leftInRoot: string[] = [],
): Promise<void> {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(errorType);
  for (const pattern of patterns) expect((error as UserError).message).toMatch(pattern);
  expect(await readdir(root)).toEqual(leftInRoot);
}

describe('validation of bad input', () => {
  it('accepts the unmodified fixture (the corpus cases differ from it in one thing each)', async () => {
    await writeMmrecFolder(folder);
    const result = await importMmrec({ dir: folder, root });
    expect(result.manifest.counts).toMatchObject({ users: 3, items: 5, interactions: 9 });
    expect(result.manifest.categories).toBe(3);
    expect(await readdir(root)).toEqual([result.id]);
  });

  it('rejects NaN in an in-memory dataset before writing anything', async () => {
    const input: DatasetInput = {
      nUsers: 1,
      nItems: 2,
      interactions: {
        users: Int32Array.from([0, 0]),
        items: Int32Array.from([0, 1]),
        splits: Int8Array.from([0, 2]),
        ratings: Float32Array.from([1, 1]),
        timestamps: new BigInt64Array(2),
      },
      categories: null,
      features: { text: { rows: 2, dim: 2, data: Float32Array.from([0, 1, NaN, 1]) } },
      source: { kind: 'synthetic', description: 'bad' },
    };
    await expectRejected(() => writeSnapshot(input, { root }), DatasetError, [
      /Non-finite feature value/,
      /text features \(in memory\), row 1, field 'column 0'/,
    ]);
  });

  it('leaves a file where the snapshot directory belongs alone, and writes nothing', async () => {
    await writeMmrecFolder(folder);
    const { id } = await importMmrec({ dir: folder, root: join(work, 'probe') });
    await writeFile(join(root, id), 'a file where the snapshot directory should go');
    await expectRejected(
      () => importMmrec({ dir: folder, root }),
      EnvironmentError,
      [/Cannot move the snapshot into place/, new RegExp(id), /move the file away/],
      [id],
    );
  });
});
