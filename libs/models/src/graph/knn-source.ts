// Where a backbone gets its item kNN graphs: given ones (loaded by the caller from wherever it keeps them),
// else computed in memory from the raw features.
import { DatasetError, type Modality } from '@sgfd/contracts';
import type { FeatureTensors } from '../model-types';
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
