import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArtifactStore } from '@sgfd/artifacts';
import { DatasetError } from '@sgfd/contracts';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnGraphSet, knnGraph, resolveKnnGraph, type FeatureTensors, type KnnGraphSpec } from '@sgfd/models';
import { knnGraphKey, loadOrBuildKnnGraphs } from './knn-graphs';

let root: string;
let features: FeatureTensors;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  root = await mkdtemp(join(tmpdir(), 'sgfd-knn-'));
  const rng = createRng(1);
  features = {
    image: tf.tensor2d(
      Float32Array.from({ length: 30 * 8 }, () => Math.abs(rng.normal())),
      [30, 8],
    ),
    text: tf.tensor2d(
      Float32Array.from({ length: 30 * 4 }, () => rng.normal()),
      [30, 4],
    ),
  };
});
afterAll(async () => {
  tf.dispose(Object.values(features));
  await rm(root, { recursive: true, force: true });
});

const image: KnnGraphSpec = { modality: 'image', k: 5, similarity: 'cosine' };
const text: KnnGraphSpec = { modality: 'text', k: 3, similarity: 'cosine' };

describe('stored kNN graphs', () => {
  it('computes each graph once per (snapshot, modality, k, similarity) and reuses it from the store after that', async () => {
    const store = new FileArtifactStore(join(root, 'a'));
    const first = await loadOrBuildKnnGraphs(store, 'snap-1', features, [image, text]);
    expect(first.reused).toEqual([false, false]);
    const second = await loadOrBuildKnnGraphs(new FileArtifactStore(join(root, 'a')), 'snap-1', features, [
      image,
      text,
    ]);
    expect(second.reused).toEqual([true, true]);
    expect(second.refs).toEqual(first.refs);
    for (const spec of [image, text]) {
      const a = first.graphs.get(spec)!;
      const b = second.graphs.get(spec)!;
      expect(b.k).toBe(spec.k);
      expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
      expect(Array.from(b.values)).toEqual(Array.from(a.values));
    }
    // Beside the snapshot artifacts: <root>/knn-graph/<key>, one per spec, nothing left in staging.
    expect((await readdir(join(root, 'a', 'knn-graph'))).sort()).toEqual(
      [knnGraphKey('snap-1', image), knnGraphKey('snap-1', text)].sort(),
    );
    expect(await readdir(join(root, 'a', '.staging'))).toEqual([]);
  });

  it('keys graphs by snapshot, modality, k and similarity', () => {
    const keys = new Set([
      knnGraphKey('snap-1', image),
      knnGraphKey('snap-2', image),
      knnGraphKey('snap-1', { ...image, k: 6 }),
      knnGraphKey('snap-1', { ...image, modality: 'text' }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('refuses a stored graph that does not fit the features', async () => {
    const store = new FileArtifactStore(join(root, 'b'));
    const { refs } = await loadOrBuildKnnGraphs(store, 'snap-1', features, [text]);
    const dir = await store.openPath(refs[0]);
    const index = JSON.parse(await readFile(join(dir, 'knn.tensors.json'), 'utf8'));
    index.entries[0].shape = [29, 3];
    await writeFile(join(dir, 'knn.tensors.json'), JSON.stringify(index));
    await expect(loadOrBuildKnnGraphs(store, 'snap-1', features, [text])).rejects.toThrow(DatasetError);
  });

  it('lets a backbone use a provided graph or compute its own', () => {
    const own = resolveKnnGraph(undefined, features, text);
    expect(Array.from(own.indices)).toEqual(Array.from(knnGraph(features.text!, 3).indices));
    const set = new KnnGraphSet();
    const other = { ...own, indices: own.indices.map((i) => (i + 1) % 30) };
    set.set(text, other);
    expect(resolveKnnGraph(set, features, text)).toBe(other);
    set.set(image, { ...own, nItems: 29 });
    expect(() => resolveKnnGraph(set, features, image)).toThrow(DatasetError);
  });
});
