import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, loadSnapshot, writeSnapshot, type LoadedDataset, type SyntheticOptions } from '@sgfd/data';

const cache = new Map<string, Promise<LoadedDataset>>();
let root: Promise<string> | undefined;

/**
 * The `tiny` synthetic preset written as a real snapshot and loaded back (cached per options within a
 * test file). Feature widths default to 256 (image) and 64 (text) so that models train in seconds.
 */
export function tinyDataset(options: Omit<SyntheticOptions, 'preset'> = {}): Promise<LoadedDataset> {
  const full: SyntheticOptions = { preset: 'tiny', seed: 1, imageDim: 256, textDim: 64, ...options };
  const key = JSON.stringify(full);
  let loaded = cache.get(key);
  if (!loaded) {
    root ??= mkdtemp(join(tmpdir(), 'sgfd-training-'));
    loaded = root.then(async (dir) => loadSnapshot((await writeSnapshot(generateSynthetic(full), { root: dir })).dir));
    cache.set(key, loaded);
  }
  return loaded;
}

/** A dataset exactly like `base` but without categories (as a source without them would load). */
export function withoutCategories(base: LoadedDataset): LoadedDataset {
  return { ...base, categories: null, nCategories: null, manifest: { ...base.manifest, categories: null } };
}
