import { needsCategories, usesStudents, type RunConfig } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';
import {
  backboneData,
  createBackbone,
  disposeFeatures,
  featureTensors,
  type KnnGraphSource,
  type TeacherOutputs,
  type TrainBatch,
} from '@sgfd/models';
import { createRng, tf } from '@sgfd/tensor';
import { evaluateBackbone, VALID_METRIC } from './evaluation';
import { fingerprint } from './fingerprint';
import { sgfdInputs } from './input-transform';
import { runLoop } from './loop';
import { buildObjective } from './objective';
import type { EpochRecord } from './progress';
import { requireCategories, requireFeatures } from './requirements';
import { BprSampler } from './sampler';
import type { StageOptions } from './stage-options';

export interface StudentOptions extends StageOptions {
  /** Where to save the trained model (best validation weights). */
  modelDir?: string;
  /** Precomputed item kNN graphs for the backbones that use them (they build their own when absent). */
  knnGraphs?: KnnGraphSource;
}

export interface StudentResult {
  backbone: string;
  mode: RunConfig['sgfd']['mode'];
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  resumedFrom: number | null;
  /** Validation metrics of the selected (best-validation) epoch. */
  valid: Record<string, number>;
  /** Test metrics of the same weights. */
  test: Record<string, number>;
  history: EpochRecord[];
}

/**
 * Trains one backbone with the schedule in `config.sgfd.mode`: `off` (plain backbone), `control` (the
 * students without any SGFD term or teacher), `two-stage` (students distilled from `teacherOutputs`, see
 * pretrainTeacher) or `joint`. Early stopping on
 * validation Recall@20; the best-validation weights are evaluated on test and saved to `modelDir`.
 */
export async function trainStudent(
  rawDataset: LoadedDataset,
  config: RunConfig,
  teacherOutputs: TeacherOutputs | null = null,
  options: StudentOptions = {},
): Promise<StudentResult> {
  const cats = needsCategories(config.sgfd.mode) ? requireCategories(rawDataset, config) : null;
  if (usesStudents(config.sgfd.mode)) requireFeatures(rawDataset);
  const dataset = sgfdInputs(rawDataset, config);
  const { training } = config;
  const rng = createRng(training.seed);
  const data = backboneData(dataset);
  const features = featureTensors(dataset);
  const categories = cats ? tf.tensor1d(cats.categories, 'int32') : null;
  let backbone: ReturnType<typeof createBackbone> | null = null;
  let objective: ReturnType<typeof buildObjective> | null = null;
  try {
    backbone = createBackbone(config.backbone, {
      data,
      features,
      params: config.backboneParams,
      rng,
      knnGraphs: options.knnGraphs,
    });
    objective = buildObjective({
      backbone,
      data,
      config,
      rng,
      categories,
      nCategories: cats?.nCategories ?? null,
      teacherOutputs,
    });
    const model = backbone;
    const sampler = new BprSampler(dataset.splits.train, dataset.trainCsr, dataset.nItems);
    const evalOptions = { maskValidInTest: training.maskValidInTest };
    const result = await runLoop<TrainBatch>({
      stage: 'student',
      weights: objective.weights,
      rng,
      maxEpochs: training.epochs,
      patience: training.patience,
      evalEvery: training.evalEvery,
      learningRate: training.learningRate,
      metric: VALID_METRIC,
      epochStart: model.onEpochStart ? (epoch, r) => model.onEpochStart!(epoch, r) : undefined,
      batches: (r) => sampler.epoch(r, training.batchSize, model.usesNegatives ? (model.negativesPerPositive ?? 1) : 0),
      loss: objective.loss,
      afterStep: model.afterStep ? () => model.afterStep!() : undefined,
      validate: () => evaluateBackbone(dataset, model, 'valid', evalOptions).mean,
      checkpoint: options.checkpointDir
        ? {
            dir: options.checkpointDir,
            every: training.checkpointEvery,
            fingerprint: fingerprint({
              stage: 'student',
              dataset: dataset.manifest.id,
              config,
              teacher: teacherOutputs?.report ?? null,
            }),
          }
        : undefined,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const test = evaluateBackbone(dataset, model, 'test', evalOptions).mean;
    if (options.modelDir) await model.save(options.modelDir);
    return {
      backbone: config.backbone,
      mode: config.sgfd.mode,
      bestEpoch: result.bestEpoch,
      epochsRun: result.epochsRun,
      stoppedEarly: result.stoppedEarly,
      resumedFrom: result.resumedFrom,
      valid: result.bestMetrics,
      test,
      history: result.history,
    };
  } finally {
    objective?.dispose();
    backbone?.dispose();
    disposeFeatures(features);
    categories?.dispose();
  }
}
