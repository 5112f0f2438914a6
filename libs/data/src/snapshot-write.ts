import { createHash } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { makeData, makeVector, Int32, Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';
import {
  DATASET_SCHEMA_VERSION,
  DatasetManifestSchema,
  EnvironmentError,
  MODALITIES,
  SplitCode,
  type DatasetManifest,
} from '@sgfd/contracts';
import { inMemoryOrigin, type DatasetInput, type InteractionColumns } from './dataset-input';
import { sortCanonically } from './canonical-order';
import { writeFeatureIpc } from './feature-ipc';
import { ContentHasher } from './hash';
import { encodeParquet, encodeParquetInRowGroups } from './parquet-io';
import { usersTable } from './raw/id-map';
import { featureFile, INTERACTIONS_FILE, ITEMS_FILE, MANIFEST_FILE, USERS_FILE } from './snapshot-layout';
import { inspectExistingSnapshot } from './snapshot-verify';
import { createTempDir, releaseTempDir, removeTempDir, sweepStaleTempDirs } from './temp-dirs';
import { isFileSystemError, writeError, writing } from './write-errors';
import { checkSortedPairsDistinct, maxId, validateDatasetInput } from './validate';

export interface WriteSnapshotOptions {
  /** Directory holding snapshots; each one is `<root>/<id>`. */
  root: string;
  /** Rows per row group of interactions.parquet (one group's Arrow and Parquet forms are held at a time). */
  rowGroupRows?: number;
}

/**
 * About 11 MB of sorted rows at a time: the writer's memory is a fixed few row groups. Smaller groups cost
 * file size (each column chunk starts its own dictionary), larger ones memory; the README's import benchmark
 * has the figures.
 */
export const INTERACTION_ROW_GROUP_ROWS = 1 << 19;

export interface WriteSnapshotResult {
  id: string;
  dir: string;
  manifest: DatasetManifest;
  /** False when a snapshot with the same content already existed (nothing was written). */
  created: boolean;
  /** True when a damaged snapshot of this content was there and has been replaced. */
  repaired?: boolean;
}

/**
 * Validates `input` and writes it as a snapshot. The id is a hash of the canonical content (interactions
 * sorted by user then item, categories, features), so the same data always maps to the same directory and
 * a second import only finds it (after checking every file against the manifest: a damaged copy is
 * rewritten).
 *
 * The interaction columns of `input` are REORDERED IN PLACE into that canonical order (all five together,
 * rows unchanged), after the checks that name input rows and before the one for duplicate pairs (which are
 * neighbours once sorted): a caller that needs its row order afterwards must pass a copy. In exchange the writer holds nothing per row: the hash and interactions.parquet (one row
 * group per `rowGroupRows` rows) read the sorted columns a batch at a time. Files go to a temp directory
 * that is renamed into place: a reader never sees half a snapshot, and a failure leaves nothing behind.
 * Temp directories of processes that died are swept first.
 */
export async function writeSnapshot(input: DatasetInput, options: WriteSnapshotOptions): Promise<WriteSnapshotResult> {
  validateDatasetInput(input);
  const interactions = input.interactions;
  sortCanonically(interactions, input.nUsers);
  checkSortedPairsDistinct(interactions, input.origin?.interactions ?? inMemoryOrigin('interactions'));
  const rowGroupRows = options.rowGroupRows ?? INTERACTION_ROW_GROUP_ROWS;
  const nCategories = input.categories ? maxId(input.categories) + 1 : null;
  const modalities = MODALITIES.filter((m) => input.features[m] !== undefined);
  const id = contentId(input, nCategories, rowGroupRows);
  const dir = join(options.root, id);

  const existing = await inspectExistingSnapshot(dir, id);
  if (existing.state === 'intact') return { id, dir, manifest: existing.manifest, created: false };
  if (existing.state === 'blocked') throw inTheWay(dir);

  await writing(options.root, 'create the snapshot root', () => mkdir(options.root, { recursive: true }));
  await sweepStaleTempDirs(options.root);
  const tmp = await writing(options.root, 'create a temp directory in the snapshot root', () =>
    createTempDir(options.root, id.slice(0, 12)),
  );
  try {
    const files: DatasetManifest['files'] = [];
    const interactionsBytes = encodeParquetInRowGroups(interactionTables(interactions, rowGroupRows), rowGroupRows);
    files.push(await writeDataFile(tmp, INTERACTIONS_FILE, interactionsBytes, options.root));
    const itemsBytes = encodeParquet(itemsTable(input));
    files.push(await writeDataFile(tmp, ITEMS_FILE, [itemsBytes], options.root));
    if (input.ids) {
      files.push(await writeDataFile(tmp, USERS_FILE, [encodeParquet(usersTable(input.ids.users))], options.root));
    }
    for (const modality of modalities) {
      const file = featureFile(modality);
      const written = await writing(options.root, `write ${file} into the snapshot root`, () =>
        writeFeatureIpc(join(tmp, file), input.features[modality]!),
      );
      files.push({ path: file, ...written });
    }
    const counts = splitCounts(interactions.splits);
    const manifest = DatasetManifestSchema.parse({
      schemaVersion: DATASET_SCHEMA_VERSION,
      id,
      counts: { users: input.nUsers, items: input.nItems, interactions: interactions.users.length, ...counts },
      categories: nCategories,
      modalities: modalities.map((name) => ({ name, dim: input.features[name]!.dim, file: featureFile(name) })),
      files,
      source: input.source,
    } satisfies DatasetManifest);
    await writeDataFile(
      tmp,
      MANIFEST_FILE,
      [new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)],
      options.root,
    );
    if (existing.state === 'damaged') {
      await replaceDamaged(dir, tmp, options.root, id);
      return { id, dir, manifest, created: true, repaired: true };
    }
    try {
      await rename(tmp, dir);
      releaseTempDir(tmp);
    } catch (err) {
      // Someone else wrote the same content first: theirs is as good as ours.
      const raced = await inspectExistingSnapshot(dir, id);
      if (raced.state === 'intact') {
        await removeTempDir(tmp);
        return { id, dir, manifest: raced.manifest, created: false };
      }
      if (raced.state === 'blocked') throw inTheWay(dir);
      throw isFileSystemError(err) ? writeError(dir, 'move the snapshot into place', err) : err;
    }
    return { id, dir, manifest, created: true };
  } catch (err) {
    await removeTempDir(tmp);
    throw err;
  }
}

function inTheWay(dir: string): EnvironmentError {
  return new EnvironmentError('Cannot move the snapshot into place', {
    file: dir,
    expected: 'an absent directory or a complete snapshot (move the file away)',
    found: 'a file or link where the snapshot directory belongs',
  });
}

/** The damaged copy is moved aside (a temp name, swept if we die) before the new one takes its place. */
async function replaceDamaged(dir: string, tmp: string, root: string, id: string): Promise<void> {
  const aside = await writing(root, 'create a temp directory in the snapshot root', () =>
    createTempDir(root, `${id.slice(0, 12)}-damaged`),
  );
  await writing(dir, 'move the damaged snapshot aside', () => rename(dir, join(aside, 'old')));
  await writing(dir, 'move the snapshot into place', () => rename(tmp, dir));
  releaseTempDir(tmp);
  await removeTempDir(aside);
}

/**
 * Writes `name` into the temp directory from its consecutive chunks, hashing them on the way; a failure
 * names the snapshot root (the temp directory is removed).
 */
async function writeDataFile(
  tmp: string,
  name: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  root: string,
): Promise<DatasetManifest['files'][number]> {
  const hash = createHash('sha256');
  let bytes = 0;
  await writing(root, `write ${name} into the snapshot root`, async () => {
    const file = await open(join(tmp, name), 'wx');
    try {
      for await (const chunk of chunks) {
        await file.write(chunk);
        hash.update(chunk);
        bytes += chunk.byteLength;
      }
      await file.sync();
    } finally {
      await file.close();
    }
  });
  return { path: name, sha256: hash.digest('hex'), bytes };
}

/** The hash of the canonical content (the interaction columns already sorted), fed a batch at a time. */
function contentId(input: DatasetInput, nCategories: number | null, batchRows: number): string {
  const hasher = new ContentHasher();
  const header = {
    schemaVersion: DATASET_SCHEMA_VERSION,
    users: input.nUsers,
    items: input.nItems,
    categories: nCategories,
    modalities: MODALITIES.filter((m) => input.features[m]).map((m) => ({ name: m, dim: input.features[m]!.dim })),
  };
  hasher.part('header', JSON.stringify(header));
  const cols = input.interactions;
  const column = (label: string, values: InteractionColumns[keyof InteractionColumns]): void => {
    hasher.partInChunks(label, values.byteLength, batches(values, batchRows));
  };
  column('user', cols.users);
  column('item', cols.items);
  column('split', cols.splits);
  column('rating', cols.ratings);
  column('timestamp', cols.timestamps);
  if (input.categories) hasher.part('category', input.categories);
  if (input.ids)
    hasher.part('user ids', JSON.stringify(input.ids.users)).part('item ids', JSON.stringify(input.ids.items));
  if (input.categoryLabels) hasher.part('category labels', JSON.stringify(input.categoryLabels));
  for (const m of MODALITIES) {
    const matrix = input.features[m];
    if (matrix) hasher.part(`feature:${m}`, matrix.data.subarray(0, matrix.rows * matrix.dim));
  }
  return hasher.hex();
}

/** `column` as views of `batchRows` values (the last one shorter). */
function* batches<T extends InteractionColumns[keyof InteractionColumns]>(column: T, batchRows: number): Generator<T> {
  for (let start = 0; start < column.length; start += batchRows) {
    yield column.subarray(start, Math.min(start + batchRows, column.length)) as T;
  }
}

/** The (sorted) interactions as Arrow tables of `batchRows` rows, one at a time. */
function* interactionTables(cols: InteractionColumns, batchRows: number): Generator<Table> {
  for (let start = 0; start < cols.users.length; start += batchRows) {
    const end = Math.min(start + batchRows, cols.users.length);
    yield interactionsTable({
      users: cols.users.subarray(start, end),
      items: cols.items.subarray(start, end),
      splits: cols.splits.subarray(start, end),
      ratings: cols.ratings.subarray(start, end),
      timestamps: cols.timestamps.subarray(start, end),
    });
  }
}

function interactionsTable(cols: InteractionColumns): Table {
  return tableFromArrays({
    user: cols.users,
    item: cols.items,
    split: cols.splits,
    rating: cols.ratings,
    timestamp: cols.timestamps,
  });
}

/** items.parquet: item, category (null without categories) and, for sources with their own ids, id and category_label. */
function itemsTable(input: DatasetInput): Table {
  const { nItems, categories, ids, categoryLabels } = input;
  const item = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) item[i] = i;
  const category = categories
    ? makeVector(categories)
    : makeVector(
        makeData({
          type: new Int32(),
          length: nItems,
          nullCount: nItems,
          nullBitmap: new Uint8Array(Math.ceil(nItems / 8)),
          data: new Int32Array(nItems),
        }),
      );
  if (!ids) return new Table({ item: makeVector(item), category });
  const labels = categories && categoryLabels ? Array.from(categories, (c) => categoryLabels[c]) : null;
  return new Table({
    item: makeVector(item),
    category,
    id: vectorFromArray(ids.items, new Utf8()),
    ...(labels ? { category_label: vectorFromArray(labels, new Utf8()) } : {}),
  });
}

function splitCounts(splits: Int8Array): { train: number; valid: number; test: number } {
  const c = [0, 0, 0];
  for (let k = 0; k < splits.length; k++) c[splits[k]]++;
  return { train: c[SplitCode.train], valid: c[SplitCode.valid], test: c[SplitCode.test] };
}
