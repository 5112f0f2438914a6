import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DatasetError, MODALITIES } from '@sgfd/contracts';
import type { DatasetInput } from './dataset-input';
import { MMREC_FEATURE_FILES } from './mmrec-import';
import { INTER_HEADER } from './inter-file';
import { writeNpy } from './npy';
import { readSnapshotInput } from './snapshot-load';
import { entryExists } from './source-files';
import { createTempDir, releaseTempDir, removeTempDir } from './temp-dirs';
import { writing } from './write-errors';

export interface MmrecExportOptions {
  /** Folder to create; it must not exist yet. */
  out: string;
  /** Dataset name for `<name>.inter` (default: the folder's name). */
  name?: string;
}

export interface MmrecExportResult {
  dir: string;
  files: string[];
}

/**
 * Writes a dataset in MMRec's layout: `<name>.inter` (userID itemID rating timestamp x_label, tab-separated),
 * `image_feat.npy` / `text_feat.npy` (float32, C order) and `item_category.npy` (int64), so other toolkits
 * can run on exactly the same data. The folder is assembled under a temp name and renamed when complete.
 */
export async function exportMmrec(input: DatasetInput, options: MmrecExportOptions): Promise<MmrecExportResult> {
  const out = resolve(options.out);
  const name = options.name ?? basename(out);
  if (await entryExists(out)) {
    throw new DatasetError('Export folder already exists', {
      file: out,
      expected: 'a path that does not exist yet',
      found: 'an existing entry',
    });
  }
  const parent = dirname(out);
  await writing(parent, 'create the export folder', () => mkdir(parent, { recursive: true }));
  const tmp = await writing(parent, 'create a temp folder for the export', () =>
    createTempDir(parent, basename(out).replace(/[^A-Za-z0-9_.]/g, '_')),
  );
  try {
    const files = [`${name}.inter`];
    await withFile(join(tmp, `${name}.inter`), (h) => writeInter(h, input));
    for (const modality of MODALITIES) {
      const matrix = input.features[modality];
      if (!matrix) continue;
      const file = MMREC_FEATURE_FILES[modality];
      await withFile(join(tmp, file), (h) =>
        writeNpy(h, matrix.data.subarray(0, matrix.rows * matrix.dim), [matrix.rows, matrix.dim]),
      );
      files.push(file);
    }
    if (input.categories) {
      const categories = BigInt64Array.from(input.categories, (c) => BigInt(c));
      await withFile(join(tmp, 'item_category.npy'), (h) => writeNpy(h, categories, [categories.length]));
      files.push('item_category.npy');
    }
    await writing(out, 'move the export into place', () => rename(tmp, out));
    releaseTempDir(tmp);
    return { dir: out, files };
  } catch (err) {
    await removeTempDir(tmp);
    throw err;
  }
}

/** Exports a snapshot directory to the MMRec layout. */
export async function exportSnapshotToMmrec(
  snapshotDir: string,
  options: MmrecExportOptions,
): Promise<MmrecExportResult> {
  return exportMmrec(await readSnapshotInput(snapshotDir), options);
}

async function writeInter(handle: FileHandle, input: DatasetInput): Promise<void> {
  const c = input.interactions;
  const lines: string[] = [INTER_HEADER.join('\t')];
  const flush = async (): Promise<void> => {
    await handle.write(`${lines.join('\n')}\n`);
    lines.length = 0;
  };
  for (let k = 0; k < c.users.length; k++) {
    lines.push(`${c.users[k]}\t${c.items[k]}\t${c.ratings[k]}\t${c.timestamps[k]}\t${c.splits[k]}`);
    if (lines.length >= 65_536) await flush();
  }
  if (lines.length > 0) await flush();
}

async function withFile(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  await writing(dirname(dirname(path)), `write ${basename(path)} of the export`, async () => {
    const handle = await open(path, 'wx');
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}
