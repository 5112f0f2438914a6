import { basename, join, resolve } from 'node:path';
import { DatasetError, type Modality } from '@sgfd/contracts';
import { readCategoryFile } from './categories-file';
import type { DatasetInput, RowOrigin } from './dataset-input';
import { sortCanonically } from './canonical-order';
import { forEachInterPair, readInterFile } from './inter-file';
import { readNpyMatrix } from './npy';
import { writeSnapshot, type WriteSnapshotResult } from './snapshot-write';
import { entryExists, listDirectory, requireDirectory } from './source-files';
import { checkSortedPairsNamingRows } from './sorted-pairs';
import { splitSortedInteractions } from './split';
import type { FeatureMatrix } from './types';
import { checkIdsContiguous, maxId, checkNotEmpty, checkSplitLabels, checkUsersHaveTraining } from './validate';

export const MMREC_FEATURE_FILES: Record<Modality, string> = { image: 'image_feat.npy', text: 'text_feat.npy' };
export const MMREC_CATEGORY_CANDIDATES = ['item_category.npy', 'item_category.csv', 'item_category.parquet'];
export const DEFAULT_SPLIT_SEED = 2023;

export interface MmrecImportOptions {
  /** The MMRec dataset folder (holding `<name>.inter` and the .npy features). */
  dir: string;
  /** Snapshot root. */
  root: string;
  /** Dataset name, i.e. which `<name>.inter` (needed only when the folder holds several). */
  name?: string;
  /** Item categories file (.npy, .csv or .parquet); default: item_category.{npy,csv,parquet} in the folder. */
  categories?: string;
  /** Seed of the 8:1:1 split, used only when the .inter file has no x_label column. */
  splitSeed?: number;
}

export interface ImportResult extends WriteSnapshotResult {
  /** Valid/test rows dropped by the split because their user had no training rows. */
  droppedRows: number;
}

/**
 * Reads an MMRec folder into memory, validated, without writing anything. The interactions come back in
 * canonical order (by user, then item), not in the file's.
 */
export async function readMmrecFolder(
  options: Omit<MmrecImportOptions, 'root'>,
): Promise<{ input: DatasetInput; droppedRows: number }> {
  const dir = resolve(options.dir);
  await requireDirectory(dir, 'MMRec dataset folder');
  const interPath = await findInterFile(dir, options.name);
  const parsed = await readInterFile(interPath);
  let cols = parsed.cols;
  const origin: RowOrigin = { file: interPath, rowBase: parsed.rowBase };
  checkNotEmpty(cols.users.length, origin);
  const nUsers = maxId(cols.users) + 1;
  const nItems = maxId(cols.items) + 1;
  checkIdsContiguous(cols.users, nUsers, 'userID', origin);
  checkIdsContiguous(cols.items, nItems, 'itemID', origin);
  if (parsed.hasSplit) {
    checkSplitLabels(cols.splits, origin);
    checkUsersHaveTraining(cols, nUsers, origin);
  }
  // In place, into the order the snapshot writer wants anyway: repeated pairs become neighbours and each
  // user's rows one run, so the duplicate check and the split need no per-row index.
  sortCanonically(cols, nUsers);
  await checkSortedPairsNamingRows(cols, origin, (onPair) => forEachInterPair(interPath, onPair));
  let droppedRows = 0;
  if (!parsed.hasSplit) {
    const seed = options.splitSeed ?? DEFAULT_SPLIT_SEED;
    ({ cols, dropped: droppedRows } = splitSortedInteractions(cols, nUsers, seed));
  }

  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  const featureOrigins: Partial<Record<Modality, RowOrigin>> = {};
  for (const [modality, file] of Object.entries(MMREC_FEATURE_FILES) as [Modality, string][]) {
    const path = join(dir, file);
    if (!(await entryExists(path))) continue;
    const checkRows = (rows: number): void => {
      if (rows !== nItems) {
        throw new DatasetError('Feature row count does not equal the item count', {
          file: path,
          field: 'shape',
          expected: `${nItems} rows (itemIDs in ${basename(interPath)} run 0..${nItems - 1})`,
          found: `${rows} rows`,
        });
      }
    };
    features[modality] = await readNpyMatrix(path, `${modality} feature file`, { checkRows });
    featureOrigins[modality] = { file: path, rowBase: 0 };
  }

  let categories: Int32Array | null = null;
  let categoryOrigin: RowOrigin | undefined;
  const categoryPath = options.categories ? resolve(options.categories) : await findCategoryFile(dir);
  if (categoryPath) {
    const read = await readCategoryFile(categoryPath, nItems);
    if (read.categories.length !== nItems) {
      throw new DatasetError('Categories missing for some items', {
        file: categoryPath,
        expected: `one category for each of the ${nItems} items`,
        found: `${read.categories.length} categories`,
      });
    }
    categories = read.categories;
    categoryOrigin = { file: read.file, rowBase: read.rowBase };
  }

  const files = [basename(interPath), ...Object.values(featureOrigins).map((o) => basename(o.file))];
  if (categoryPath) files.push(categoryPath.startsWith(dir) ? basename(categoryPath) : categoryPath);
  const input: DatasetInput = {
    nUsers,
    nItems,
    interactions: cols,
    categories,
    features,
    source: {
      kind: 'mmrec',
      description: `MMRec folder ${dir}: ${files.join(', ')}${parsed.hasSplit ? '' : `; split 8:1:1 per user with seed ${options.splitSeed ?? DEFAULT_SPLIT_SEED}`}`,
      path: dir,
      files,
      splitGiven: parsed.hasSplit,
      droppedRows,
    },
    origin: { interactions: origin, categories: categoryOrigin, features: featureOrigins },
  };
  return { input, droppedRows };
}

/** Imports an MMRec folder as a snapshot (a no-op returning the existing one when the content is known). */
export async function importMmrec(options: MmrecImportOptions): Promise<ImportResult> {
  const { input, droppedRows } = await readMmrecFolder(options);
  return { ...(await writeSnapshot(input, { root: options.root })), droppedRows };
}

async function findInterFile(dir: string, name: string | undefined): Promise<string> {
  // A named file that is missing or unreadable is reported precisely by the reader.
  if (name !== undefined) return join(dir, `${name}.inter`);
  const candidates = (await listDirectory(dir, 'MMRec dataset folder')).filter((f) => f.endsWith('.inter')).sort();
  if (candidates.length === 0) {
    throw new DatasetError('Missing MMRec interaction file', {
      file: join(dir, '<name>.inter'),
      expected: 'one .inter file in the folder',
      found: 'none',
    });
  }
  if (candidates.length > 1) {
    throw new DatasetError('Several .inter files; say which dataset to import (name)', {
      file: dir,
      expected: 'one .inter file, or a dataset name',
      found: candidates.join(', '),
    });
  }
  return join(dir, candidates[0]);
}

async function findCategoryFile(dir: string): Promise<string | null> {
  for (const name of MMREC_CATEGORY_CANDIDATES) {
    const path = join(dir, name);
    if (await entryExists(path)) return path;
  }
  return null;
}
