import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError, usesStudents, type RunConfig, type RunManifest } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';
import {
  backboneData,
  createBackbone,
  disposeFeatures,
  featureTensors,
  type Backbone,
  type KnnGraphSource,
} from '@sgfd/models';
import { createRng } from '@sgfd/tensor';
import { RUN_FILES } from './run-files';
import { sgfdInputs } from './input-transform';
import { fillSlotsWithStudents } from './student-slots';

export interface LoadedModel {
  backbone: Backbone;
  manifest: RunManifest;
  dispose(): void;
}

/**
 * Rebuilds the model a run wrote (backbone, with SGFD students in its slots when the run used SGFD) for
 * `dataset` and loads its best-validation weights.
 */
export async function loadRunModel(runDir: string, dataset: LoadedDataset): Promise<LoadedModel> {
  const manifestPath = join(runDir, RUN_FILES.manifest);
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as RunManifest;
  } catch (error) {
    throw new DatasetError(`Cannot read the run manifest: ${(error as Error).message}`, { file: manifestPath });
  }
  if (manifest.datasetId !== dataset.manifest.id) {
    throw new DatasetError('The model was trained on another dataset', {
      file: manifestPath,
      field: 'datasetId',
      expected: dataset.manifest.id,
      found: manifest.datasetId,
    });
  }
  const restored = await restoreBackbone(dataset, manifest.config, join(runDir, RUN_FILES.model));
  return { ...restored, manifest };
}

export interface RestoredBackbone {
  backbone: Backbone;
  /** Disposes the backbone and the feature tensors it was built on. */
  dispose(): void;
}

/**
 * Rebuilds a trained backbone from its model folder: the same backbone and, for SGFD runs, students in its
 * projection slots (what the student stage trained), then the saved weights. Loading checks that the saved
 * model is of this backbone with the same kind of projections.
 */
export async function restoreBackbone(
  dataset: LoadedDataset,
  config: RunConfig,
  modelDir: string,
  knnGraphs?: KnnGraphSource,
): Promise<RestoredBackbone> {
  const data = backboneData(dataset);
  // A model with students reads its features through the run's input transform, as it was trained.
  const features = featureTensors(sgfdInputs(dataset, config));
  const rng = createRng(config.training.seed);
  let backbone: Backbone | null = null;
  try {
    backbone = createBackbone(config.backbone, { data, features, params: config.backboneParams, rng, knnGraphs });
    if (usesStudents(config.sgfd.mode)) fillSlotsWithStudents(backbone, data, config, rng);
    await backbone.load(modelDir);
  } catch (error) {
    backbone?.dispose();
    disposeFeatures(features);
    throw error;
  }
  const model = backbone;
  return {
    backbone: model,
    dispose: () => {
      model.dispose();
      disposeFeatures(features);
    },
  };
}
