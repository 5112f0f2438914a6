import { DatasetError, type ArtifactRef, type Modality } from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import type { FeatureTensors } from '../backbone';
import { readTensorFile, tensorIndexPath, writeTensorFile } from '../io/tensor-file';
import { knnGraph, type KnnGraph, type KnnSimilarity } from './knn';

/** One item kNN graph a backbone needs: of which modality's raw features, how many neighbours, ranked how. */
export interface KnnGraphSpec {
  modality: Modality;
  k: number;
  similarity: KnnSimilarity;
}

/** Where a backbone finds precomputed kNN graphs (absent: it computes them itself, in memory). */
export interface KnnGraphSource {
  get(spec: KnnGraphSpec): KnnGraph | undefined;
}

/** Changes whenever the stored graph for the same inputs would change (ranking, tie rule, file layout). */
export const KNN_GRAPH_CODE_VERSION = 'knn-graph/1';
const FILE_BASE = 'knn';

function specId(spec: KnnGraphSpec): string {
  return `${spec.modality}/${spec.k}/${spec.similarity}`;
}

/** Graphs by spec, in memory. */
export class KnnGraphSet implements KnnGraphSource {
  private readonly graphs = new Map<string, KnnGraph>();

  set(spec: KnnGraphSpec, graph: KnnGraph): void {
    this.graphs.set(specId(spec), graph);
  }

  get(spec: KnnGraphSpec): KnnGraph | undefined {
    return this.graphs.get(specId(spec));
  }
}

/**
 * The address of a stored kNN graph: a derived artifact of the snapshot, keyed by (snapshot id, modality,
 * k, similarity) and the code version, so every run on the same snapshot finds it again.
 */
export function knnGraphKey(snapshotId: string, spec: KnnGraphSpec): string {
  return artifactKey({
    inputs: { snapshot: snapshotId, modality: spec.modality },
    config: { k: spec.k, similarity: spec.similarity },
    codeVersion: KNN_GRAPH_CODE_VERSION,
  });
}

export interface StoredKnnGraphs {
  graphs: KnnGraphSet;
  /** One per spec, in order. */
  refs: ArtifactRef[];
  /** Whether each graph was found in the store (true) or computed now (false). */
  reused: boolean[];
}

/**
 * The kNN graphs of `specs` for a snapshot, from the artifact store (kind `knn-graph`, beside the snapshot
 * artifact), computing and publishing the missing ones. The store writes each graph atomically (staged,
 * manifest last, one rename), so concurrent runs never see half a graph.
 */
export async function loadOrBuildKnnGraphs(
  store: ArtifactStore,
  snapshotId: string,
  features: FeatureTensors,
  specs: readonly KnnGraphSpec[],
): Promise<StoredKnnGraphs> {
  const graphs = new KnnGraphSet();
  const refs: ArtifactRef[] = [];
  const reused: boolean[] = [];
  for (const spec of specs) {
    const x = features[spec.modality];
    if (!x)
      throw new DatasetError(`A ${spec.modality} kNN graph needs ${spec.modality} features, which the snapshot lacks`, {
        field: 'modalities',
      });
    let built: KnnGraph | null = null;
    const stored = await store.withArtifact(
      { kind: 'knn-graph', key: knnGraphKey(snapshotId, spec) },
      async (staging) => {
        built = knnGraph(x, spec.k, { similarity: spec.similarity });
        const shape = [built.nItems, built.k];
        await writeTensorFile(staging.dir, FILE_BASE, {
          indices: { shape, data: built.indices },
          values: { shape, data: built.values },
        });
        return { snapshot: snapshotId, ...spec, nItems: built.nItems, neighbours: built.k };
      },
    );
    const graph = built ?? (await readStoredGraph(store, stored.ref, x.shape[0], spec));
    graphs.set(spec, graph);
    refs.push(stored.ref);
    reused.push(stored.reused);
  }
  return { graphs, refs, reused };
}

async function readStoredGraph(
  store: ArtifactStore,
  ref: ArtifactRef,
  nItems: number,
  spec: KnnGraphSpec,
): Promise<KnnGraph> {
  const dir = await store.openPath(ref);
  const { arrays } = await readTensorFile(dir, FILE_BASE);
  const { indices, values } = arrays;
  const k = Math.min(spec.k, nItems);
  const fits = (a: typeof indices) =>
    a !== undefined && a.shape.length === 2 && a.shape[0] === nItems && a.shape[1] === k;
  if (
    !fits(indices) ||
    !fits(values) ||
    !(indices.data instanceof Int32Array) ||
    !(values.data instanceof Float32Array)
  ) {
    throw new DatasetError('Stored kNN graph does not fit the snapshot', {
      file: tensorIndexPath(dir, FILE_BASE),
      expected: `int32 indices and float32 values of shape [${nItems}, ${k}]`,
      found: `indices [${indices?.shape}], values [${values?.shape}]`,
    });
  }
  return { nItems, k, indices: indices.data, values: values.data };
}

/** The graph of `spec` from `source` when it has it, else computed now from the raw features (in memory only). */
export function resolveKnnGraph(
  source: KnnGraphSource | undefined,
  features: FeatureTensors,
  spec: KnnGraphSpec,
): KnnGraph {
  const found = source?.get(spec);
  const x = features[spec.modality];
  if (!x)
    throw new DatasetError(`A ${spec.modality} kNN graph needs ${spec.modality} features`, { field: 'modalities' });
  if (found) {
    if (found.nItems !== x.shape[0]) {
      throw new DatasetError('The kNN graph was made for another item set', {
        field: `knnGraphs.${spec.modality}`,
        expected: `${x.shape[0]} items`,
        found: `${found.nItems}`,
      });
    }
    return found;
  }
  return knnGraph(x, spec.k, { similarity: spec.similarity });
}
