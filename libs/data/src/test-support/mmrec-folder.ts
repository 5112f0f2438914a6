import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { npyBytes } from './npy-bytes';

/**
 * A small valid MMRec folder that test cases change in one thing each. Lines 2..10 of the .inter file
 * (line 1 is the header): 3 users, 5 items.
 */
export const FIXTURE_ROWS = [
  '0\t0\t5\t1\t0',
  '0\t1\t4\t2\t0',
  '0\t2\t3\t3\t1',
  '1\t1\t5\t4\t0',
  '1\t2\t2\t5\t0',
  '1\t3\t1\t6\t2',
  '2\t3\t4\t7\t0',
  '2\t4\t5\t8\t0',
  '2\t0\t3\t9\t2',
];
export const FIXTURE_HEADER = 'userID\titemID\trating\ttimestamp\tx_label';
export const FIXTURE_ITEMS = 5;
export const FIXTURE_CATEGORIES = 'item,category\n0,0\n1,1\n2,0\n3,1\n4,2\n';

export const fixtureFeatures = (rows: number, dim: number): Float32Array =>
  Float32Array.from({ length: rows * dim }, (_, k) => (k % 7) / 7);

export interface MmrecFolderSpec {
  header?: string;
  rows?: string[];
  /** The whole .inter file as bytes (header and rows ignored). */
  interBytes?: Uint8Array;
  image?: Uint8Array | 'directory' | null;
  text?: Uint8Array | null;
  categories?: string | null;
}

/** The fixture's rows with line `line` (2-based, as error messages count) replaced. */
export const fixtureWithRow = (line: number, row: string): string[] =>
  FIXTURE_ROWS.map((r, k) => (k + 2 === line ? row : r));

/** Writes the fixture folder (`ds.inter`, `image_feat.npy`, `text_feat.npy`, `item_category.csv`), changed by `spec`. */
export async function writeMmrecFolder(folder: string, spec: MmrecFolderSpec = {}): Promise<string> {
  await mkdir(folder, { recursive: true });
  const lines = [spec.header ?? FIXTURE_HEADER, ...(spec.rows ?? FIXTURE_ROWS)];
  await writeFile(join(folder, 'ds.inter'), spec.interBytes ?? `${lines.join('\n')}\n`);
  const image =
    spec.image === undefined
      ? npyBytes({ descr: '<f4', shape: [FIXTURE_ITEMS, 3], values: fixtureFeatures(FIXTURE_ITEMS, 3) })
      : spec.image;
  if (image === 'directory') await mkdir(join(folder, 'image_feat.npy'));
  else if (image) await writeFile(join(folder, 'image_feat.npy'), image);
  const text =
    spec.text === undefined
      ? npyBytes({
          descr: '<f8',
          shape: [FIXTURE_ITEMS, 2],
          values: Float64Array.from(fixtureFeatures(FIXTURE_ITEMS, 2)),
        })
      : spec.text;
  if (text) await writeFile(join(folder, 'text_feat.npy'), text);
  const categories = spec.categories === undefined ? FIXTURE_CATEGORIES : spec.categories;
  if (categories !== null) await writeFile(join(folder, 'item_category.csv'), categories);
  return folder;
}

/**
 * A valid MMRec folder big enough that writing its snapshot takes a while (for interrupting it):
 * `users` users with 10 items each, every item once, and an image feature matrix of `dim` floats per item.
 */
export async function writeSlowMmrecFolder(folder: string, users: number, dim: number): Promise<string> {
  await mkdir(folder, { recursive: true });
  const lines = ['userID\titemID'];
  for (let u = 0; u < users; u++) for (let j = 0; j < 10; j++) lines.push(`${u}\t${u * 10 + j}`);
  await writeFile(join(folder, 'big.inter'), `${lines.join('\n')}\n`);
  const items = users * 10;
  await writeFile(
    join(folder, 'image_feat.npy'),
    npyBytes({ descr: '<f4', shape: [items, dim], values: fixtureFeatures(items, dim) }),
  );
  return folder;
}
