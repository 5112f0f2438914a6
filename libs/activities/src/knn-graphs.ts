import type { RunConfig } from '@sgfd/contracts';
import type { ArtifactStore } from '@sgfd/artifacts';
import type { LoadedDataset } from '@sgfd/data';
import {
  backboneData,
  disposeFeatures,
  featureTensors,
  knnGraphSpecs,
  loadOrBuildKnnGraphs,
  type KnnGraphSource,
} from '@sgfd/models';

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
