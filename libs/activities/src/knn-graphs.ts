// The item kNN graphs of a snapshot as derived artifacts of the store: built once, reused by every run.
import { DatasetError, type ArtifactRef, type RunConfig } from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import type { LoadedDataset } from '@sgfd/data';
import {
  KnnGraphSet,
  backboneData,
  disposeFeatures,
  featureTensors,
  knnGraph,
  knnGraphSpecs,
  readTensorFile,
  tensorIndexPath,
  writeTensorFile,
  type FeatureTensors,
  type KnnGraph,
  type KnnGraphSource,
  type KnnGraphSpec,
} from '@sgfd/models';

/** Changes whenever the stored graph for the same inputs would change (ranking, tie rule, file layout). */
export const KNN_GRAPH_CODE_VERSION = 'knn-graph/1';
const FILE_BASE = 'knn';

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

/**
 * The item kNN graphs the run's backbone needs (FREEDOM, LATTICE), from the artifact store: built once per
 * snapshot and spec by whichever worker first needs them, then shared by every run and by evaluation.
 * Undefined for backbones without graphs.
 */
export async function storedKnnGraphs(
  store: ArtifactStore,
  dataset: LoadedDataset,
  config: RunConfig,
): Promise<KnnGraphSource | undefined> {
  const specs = knnGraphSpecs(config.backbone, config.backboneParams, backboneData(dataset));
  if (specs.length === 0) return undefined;
  const features = featureTensors(dataset);
  try {
    return (await loadOrBuildKnnGraphs(store, dataset.manifest.id, features, specs)).graphs;
  } finally {
    disposeFeatures(features);
  }
}
