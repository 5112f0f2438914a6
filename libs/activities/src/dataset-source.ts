// Turns a run's DatasetSpec into what ingestion needs: an identity to key the snapshot artifact by (cheap,
// computed before any parsing, so an unchanged source is never parsed twice), and the validated rows.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, DatasetError, MODALITIES, type DatasetSpec } from '@sgfd/contracts';
import {
  MANIFEST_FILE,
  SYNTHETIC_PRESET_NAMES,
  generateSynthetic,
  readMmrecFolder,
  readParquetDataset,
  decodeParquet,
  readSnapshotInput,
  resolveSyntheticParams,
  type DatasetInput,
  type SyntheticPresetName,
} from '@sgfd/data';

/** Parquet folder layout read by ingestion: an interactions table and an items table. */
export const PARQUET_INTERACTIONS_FILE = 'interactions.parquet';
export const PARQUET_ITEMS_FILE = 'items.parquet';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const WHAT: Record<Exclude<DatasetSpec['kind'], 'synthetic' | 'raw'>, string> = {
  snapshot: 'dataset snapshot directory',
  mmrec: 'MMRec dataset folder',
  parquet: 'Parquet dataset folder',
};

async function requireDirectory(path: string, kind: keyof typeof WHAT): Promise<void> {
  let isDirectory = false;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(`Dataset not found: no ${WHAT[kind]} at ${path}`, {
      file: path,
      expected: `a ${WHAT[kind]}`,
      found: code === 'ENOENT' ? 'no such file or directory' : String(code ?? e),
    });
  }
  if (!isDirectory)
    throw new DatasetError(`Dataset path is not a directory`, {
      file: path,
      expected: `a ${WHAT[kind]}`,
      found: 'a file',
    });
}

/** Name and sha256 of every regular file directly in `dir`, sorted by name. */
async function folderContent(dir: string): Promise<{ name: string; sha256: string }[]> {
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  return Promise.all(entries.map(async (name) => ({ name, sha256: await sha256Of(join(dir, name)) })));
}

/** The pipeline runs extractFeatures on a raw catalogue and ingests the snapshot it writes. */
function rawNeedsExtraction(): ConfigError {
  return new ConfigError('A raw catalogue is ingested through feature extraction', {
    field: 'dataset.kind',
    expected: "a snapshot written by extractFeatures (trainPipeline does this) or 'sgfd data extract'",
    found: 'raw',
  });
}

function checkPreset(spec: Extract<DatasetSpec, { kind: 'synthetic' }>): SyntheticPresetName {
  if (!(SYNTHETIC_PRESET_NAMES as readonly string[]).includes(spec.preset)) {
    throw new ConfigError(`Unknown synthetic preset '${spec.preset}'`, {
      field: 'dataset.preset',
      expected: SYNTHETIC_PRESET_NAMES.join(' | '),
      found: spec.preset,
    });
  }
  const preset = spec.preset as SyntheticPresetName;
  try {
    resolveSyntheticParams({ preset, seed: spec.seed, ...spec.overrides });
  } catch (e) {
    throw new ConfigError(`Invalid synthetic dataset: ${(e as Error).message}`, { field: 'dataset.overrides' });
  }
  return preset;
}

/**
 * What the snapshot is made from, as plain data: the generator's parameters for synthetic data, the sha256
 * of every source file otherwise (so an edited file gives a new snapshot, an untouched one is reused).
 * Throws a DatasetError naming the path when a source folder does not exist.
 */
export async function sourceIdentity(spec: DatasetSpec): Promise<unknown> {
  switch (spec.kind) {
    case 'raw':
      throw rawNeedsExtraction();
    case 'synthetic':
      checkPreset(spec);
      return { kind: spec.kind, preset: spec.preset, seed: spec.seed, overrides: spec.overrides ?? {} };
    case 'snapshot': {
      const dir = resolve(spec.path);
      await requireDirectory(dir, 'snapshot');
      // The manifest lists the sha256 of every data file; loading checks the files against it.
      const manifest = join(dir, MANIFEST_FILE);
      const manifestSha = await sha256Of(manifest).catch(() => {
        throw new DatasetError('Not a dataset snapshot: its manifest is missing', {
          file: manifest,
          expected: 'a snapshot manifest.json',
        });
      });
      return { kind: spec.kind, manifest: manifestSha };
    }
    case 'mmrec': {
      const dir = resolve(spec.dir);
      await requireDirectory(dir, 'mmrec');
      return { kind: spec.kind, name: spec.name ?? null, files: await folderContent(dir) };
    }
    case 'parquet': {
      const dir = resolve(spec.dir);
      await requireDirectory(dir, 'parquet');
      return { kind: spec.kind, files: await folderContent(dir) };
    }
  }
}

/** Reads and validates the source into memory (DatasetError naming file, row and field on bad data). */
export async function readDatasetSource(spec: DatasetSpec): Promise<DatasetInput> {
  switch (spec.kind) {
    case 'raw':
      throw rawNeedsExtraction();
    case 'synthetic':
      return generateSynthetic({ preset: checkPreset(spec), seed: spec.seed, ...spec.overrides });
    case 'snapshot':
      return readSnapshotInput(resolve(spec.path));
    case 'mmrec':
      return (await readMmrecFolder({ dir: resolve(spec.dir), name: spec.name })).input;
    case 'parquet': {
      const dir = resolve(spec.dir);
      const items = join(dir, PARQUET_ITEMS_FILE);
      // Feature columns go by their modality's name (`image`, `text`) when the items table has them.
      const present = existsSync(items)
        ? new Set(decodeParquet(new Uint8Array(await readFile(items)), items).schema.fields.map((f) => f.name))
        : new Set<string>();
      const features = Object.fromEntries(MODALITIES.filter((m) => present.has(m)).map((m) => [m, m]));
      const tables = {
        interactions: join(dir, PARQUET_INTERACTIONS_FILE),
        items: existsSync(items) ? items : undefined,
      };
      return (await readParquetDataset({ ...tables, columns: { features } })).input;
    }
  }
}
