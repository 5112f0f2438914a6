import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { DatasetError, DatasetManifestSchema, SplitCode, type DatasetManifest, type Modality } from '@sgfd/contracts';
import { buildCsr } from './csr';
import type { DatasetInput, InteractionColumns } from './dataset-input';
import { decodeFeatureIpc } from './feature-ipc';
import { sha256Hex } from './hash';
import { decodeParquet } from './parquet-io';
import { INTERACTIONS_FILE, ITEMS_FILE, MANIFEST_FILE } from './snapshot-layout';
import { originalIds } from './raw/id-map';
import { fileError } from './source-files';
import type { FeatureMatrix, InteractionPairs, LoadedDataset } from './types';

export interface LoadOptions {
  /** Check every file against the sha256 in the manifest (default true; costs one hash pass over memory). */
  verify?: boolean;
}

export async function readManifest(dir: string): Promise<DatasetManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fileError(path, 'snapshot manifest', err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError('Snapshot manifest is not JSON', { file: path, expected: 'JSON', found: String(err) });
  }
  const parsed = DatasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DatasetError(`Invalid snapshot manifest: ${issue.message}`, {
      file: path,
      field: issue.path.join('.') || '(root)',
    });
  }
  const { categories, counts } = parsed.data;
  // Older versions accepted any category id, so a manifest may count 10^8 categories for a few items.
  if (categories !== null && categories > counts.items) {
    throw new DatasetError('Snapshot has more categories than items (written before category ids had to be dense)', {
      file: path,
      field: 'categories',
      expected: `at most ${counts.items} (re-import the source with dense category ids 0..C-1)`,
      found: String(categories),
    });
  }
  return parsed.data;
}

/** Loads a snapshot into typed arrays ready for training. */
export async function loadSnapshot(dir: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const parts = await readSnapshotParts(dir, options);
  const { manifest, interactions } = parts;
  const nUsers = manifest.counts.users;
  const splits = {
    train: pairsOfSplit(interactions, SplitCode.train),
    valid: pairsOfSplit(interactions, SplitCode.valid),
    test: pairsOfSplit(interactions, SplitCode.test),
  };
  return {
    manifest,
    dir,
    nUsers,
    nItems: manifest.counts.items,
    nCategories: manifest.categories,
    categories: parts.categories,
    features: parts.features,
    splits,
    trainCsr: buildCsr(splits.train, nUsers),
  };
}

/** The snapshot as a DatasetInput (all columns), e.g. to export it or re-import it elsewhere. */
export async function readSnapshotInput(dir: string, options: LoadOptions = {}): Promise<DatasetInput> {
  const parts = await readSnapshotParts(dir, options);
  const map = await originalIds(dir);
  const ids = map.hasOriginalIds
    ? {
        users: Array.from({ length: map.nUsers }, (_, u) => map.user(u)),
        items: Array.from({ length: map.nItems }, (_, i) => map.item(i)),
      }
    : undefined;
  return {
    ...(ids ? { ids } : {}),
    ...(parts.categoryLabels ? { categoryLabels: parts.categoryLabels } : {}),
    nUsers: parts.manifest.counts.users,
    nItems: parts.manifest.counts.items,
    interactions: parts.interactions,
    categories: parts.categories,
    features: parts.features,
    source: parts.manifest.source,
  };
}

interface SnapshotParts {
  manifest: DatasetManifest;
  interactions: InteractionColumns;
  categories: Int32Array | null;
  categoryLabels: string[] | null;
  features: Partial<Record<Modality, FeatureMatrix>>;
}

async function readSnapshotParts(dir: string, options: LoadOptions): Promise<SnapshotParts> {
  const manifest = await readManifest(dir);
  const verify = options.verify ?? true;
  const readChecked = async (name: string): Promise<Uint8Array> => {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw fileError(path, 'snapshot file', err);
    }
    const entry = manifest.files.find((f) => f.path === name);
    if (!entry) throw new DatasetError('File not listed in the manifest', { file: path, field: 'files' });
    if (verify && (bytes.byteLength !== entry.bytes || sha256Hex(bytes) !== entry.sha256)) {
      throw new DatasetError('Snapshot file does not match its manifest checksum', {
        file: path,
        expected: `sha256 ${entry.sha256}`,
        found: 'different content (the snapshot was modified or damaged)',
      });
    }
    return bytes;
  };

  const interactionsPath = join(dir, INTERACTIONS_FILE);
  const interactions = interactionColumns(decodeParquet(await readChecked(INTERACTIONS_FILE), interactionsPath));
  const itemsPath = join(dir, ITEMS_FILE);
  const items = decodeParquet(await readChecked(ITEMS_FILE), itemsPath);
  const categories = manifest.categories === null ? null : int32Column(items, 'category', itemsPath);
  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  for (const { name, dim, file } of manifest.modalities) {
    const matrix = decodeFeatureIpc(await readChecked(file), join(dir, file), dim);
    if (matrix.rows !== manifest.counts.items) {
      throw new DatasetError('Feature row count does not equal the item count', {
        file: join(dir, file),
        expected: `${manifest.counts.items} rows`,
        found: `${matrix.rows} rows`,
      });
    }
    features[name] = matrix;
  }
  if (interactions.users.length !== manifest.counts.interactions) {
    throw new DatasetError('Interaction count differs from the manifest', {
      file: interactionsPath,
      expected: `${manifest.counts.interactions} rows`,
      found: `${interactions.users.length} rows`,
    });
  }
  return { manifest, interactions, categories, categoryLabels: labelsOf(items, categories), features };
}

/** The label of each category id, from items.parquet's category_label column when the source named them. */
function labelsOf(items: Table, categories: Int32Array | null): string[] | null {
  const column = items.getChild('category_label');
  if (!column || !categories) return null;
  const labels: string[] = [];
  for (let i = 0; i < categories.length; i++) labels[categories[i]] = String(column.get(i));
  return labels;
}

function interactionColumns(table: Table): InteractionColumns {
  return {
    users: table.getChild('user')!.toArray() as Int32Array,
    items: table.getChild('item')!.toArray() as Int32Array,
    splits: table.getChild('split')!.toArray() as Int8Array,
    ratings: table.getChild('rating')!.toArray() as Float32Array,
    timestamps: table.getChild('timestamp')!.toArray() as BigInt64Array,
  };
}

function int32Column(table: Table, name: string, file: string): Int32Array {
  const column = table.getChild(name);
  if (!column || column.nullCount > 0) {
    throw new DatasetError('Snapshot column missing or has nulls', { file, field: name, expected: 'int32 values' });
  }
  return column.toArray() as Int32Array;
}

function pairsOfSplit(cols: InteractionColumns, code: number): InteractionPairs {
  let n = 0;
  for (let k = 0; k < cols.splits.length; k++) if (cols.splits[k] === code) n++;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  let p = 0;
  for (let k = 0; k < cols.splits.length; k++) {
    if (cols.splits[k] === code) {
      users[p] = cols.users[k];
      items[p] = cols.items[k];
      p++;
    }
  }
  return { users, items };
}
