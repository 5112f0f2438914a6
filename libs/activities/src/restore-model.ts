import type { RunConfig } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';
import { Student, backboneData, createBackbone, disposeFeatures, featureTensors, type Backbone, type KnnGraphSource } from '@sgfd/models';
import { createRng } from '@sgfd/tensor';

export interface RestoredModel {
  backbone: Backbone;
  dispose(): void;
}

/**
 * Rebuilds the trained backbone from a model folder: the same backbone and, for SGFD runs, students in its
 * projection slots (what the student stage trained), then the saved weights. Loading checks that the saved
 * model is of this backbone with the same kind of projections.
 */
export async function restoreModel(dataset: LoadedDataset, config: RunConfig, modelDir: string, knnGraphs?: KnnGraphSource): Promise<RestoredModel> {
  const data = backboneData(dataset);
  const features = featureTensors(dataset);
  const rng = createRng(config.training.seed);
  let backbone: Backbone | undefined;
  try {
    backbone = createBackbone(config.backbone, { data, features, params: config.backboneParams, rng, knnGraphs });
    if (config.sgfd.mode !== 'off') {
      for (const m of backbone.projectionSlots) {
        backbone.setProjection(m, new Student(data.featureDims[m]!, config.sgfd.latentDim, config.sgfd.leakySlope, rng));
      }
    }
    await backbone.load(modelDir);
  } catch (e) {
    backbone?.dispose();
    disposeFeatures(features);
    throw e;
  }
  const restored = backbone;
  return {
    backbone: restored,
    dispose() {
      restored.dispose();
      disposeFeatures(features);
    },
  };
}
