import { MODALITIES, type RunConfig } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';
import {
  accuracy,
  backboneData,
  disposeFeatures,
  featureTensors,
  SemanticTeacher,
  teacherFirstProducts,
  teacherPretrainLoss,
  teacherPretrainLossFromProducts,
  tidyObject,
  type FeatureTensors,
  type FirstProduct,
  type PerModality,
  type TeacherModalityOutputs,
  type TeacherOutputs,
} from '@sgfd/models';
import { createRng, tf } from '@sgfd/tensor';
import { fingerprint } from './fingerprint';
import { runLoop, type OuterProductLoss } from './loop';
import { sgfdInputs } from './input-transform';
import { requireCategories, requireFeatures } from './requirements';
import { RIDGE_GRID, ridgeProbe, type RidgeProbeResult } from './ridge-probe';
import { yieldToEventLoop } from './progress';
import type { StageOptions } from './stage-options';

const OUTPUT_CHUNK = 1024;

interface TeacherBatch {
  items: Int32Array;
  dropoutSeed: number;
}

function rowsOf(features: FeatureTensors, items: tf.Tensor1D): PerModality<tf.Tensor2D> {
  const out: PerModality<tf.Tensor2D> = {};
  for (const m of MODALITIES) if (features[m]) out[m] = tf.gather(features[m]!, items);
  return out;
}

/**
 * The names of the towers' first-layer weights when every tower's cheaper order on a batch of `batchSize`
 * rows starts with x W_1 (smaller batches then do too), else null: the teacher then trains those weights
 * from their products with the batch's rows, and Adam forms their gradient inside its update (see
 * OuterProductGradient; on office's 4096 x 1024 weight that gradient and Adam take about 0.6x the time of
 * the product then Adam, and a teacher epoch about 11 % less, in alternated epochs).
 */
function firstLayerNames(teacher: SemanticTeacher, batchSize: number): PerModality<string> | null {
  if (!teacher.modalities.every((m) => teacher.towers[m]!.startsWithFirstProduct(batchSize))) return null;
  const nameOf = new Map(Object.entries(teacher.weights).map(([name, v]) => [v, name]));
  const names: PerModality<string> = {};
  for (const m of teacher.modalities) names[m] = nameOf.get(teacher.towers[m]!.layers[0].kernel)!;
  return names;
}

/** One teacher batch's loss with the first layers' products made before the gradient scope. */
function firstLayerProducts(
  teacher: SemanticTeacher,
  names: PerModality<string>,
  features: FeatureTensors,
  labels: tf.Tensor1D,
  { items, dropoutSeed }: TeacherBatch,
  options: { rate: number; sgfd: RunConfig['sgfd'] },
): OuterProductLoss | undefined {
  const ids = tf.tensor1d(items, 'int32');
  const raw = rowsOf(features, ids);
  let products: PerModality<FirstProduct> | null;
  try {
    products = teacherFirstProducts(teacher, raw, { rate: options.rate, seed: dropoutSeed });
  } finally {
    tf.dispose([ids, ...Object.values(raw)]);
  }
  if (!products) return undefined;
  const given = products;
  return {
    products: teacher.modalities.map((m) => ({ name: names[m]!, ...given[m]! })),
    loss: () =>
      tidyObject(() =>
        teacherPretrainLossFromProducts(teacher, given, tf.gather(labels, tf.tensor1d(items, 'int32')), options.sgfd),
      ),
  };
}

/** Category accuracy of each modality's teacher (and of the fusion head) on the given items. */
function teacherAccuracy(
  teacher: SemanticTeacher,
  features: FeatureTensors,
  labels: tf.Tensor1D,
  items: Int32Array,
): Record<string, number> {
  return tf.tidy(() => {
    const ids = tf.tensor1d(items, 'int32');
    const y = tf.gather(labels, ids);
    const out = teacher.forward(rowsOf(features, ids));
    const metrics: Record<string, number> = {};
    for (const m of teacher.modalities) metrics[`accuracy.${m}`] = accuracy(out.logits[m]!, y);
    metrics['accuracy'] =
      teacher.modalities.reduce((s, m) => s + metrics[`accuracy.${m}`], 0) / teacher.modalities.length;
    if (out.fusionLogits) metrics['accuracy.fusion'] = accuracy(out.fusionLogits, y);
    return metrics;
  });
}

/** f^T_m and C_m(f^T_m) for every item, plus C_m's weights, read back to the host. */
function collectOutputs(
  teacher: SemanticTeacher,
  features: FeatureTensors,
  nItems: number,
): PerModality<TeacherModalityOutputs> {
  const out: PerModality<TeacherModalityOutputs> = {};
  const C = teacher.nCategories;
  for (const m of teacher.modalities) {
    const classifier = teacher.classifiers[m]!;
    out[m] = {
      features: new Float32Array(nItems * classifier.inDim),
      logits: new Float32Array(nItems * C),
      classifierKernel: (classifier.kernel.dataSync() as Float32Array).slice(),
      classifierBias: (classifier.bias!.dataSync() as Float32Array).slice(),
    };
  }
  for (let start = 0; start < nItems; start += OUTPUT_CHUNK) {
    const end = Math.min(nItems, start + OUTPUT_CHUNK);
    tf.tidy(() => {
      const forward = teacher.forward(rowsOf(features, tf.range(start, end, 1, 'int32') as tf.Tensor1D));
      for (const m of teacher.modalities) {
        out[m]!.features.set(forward.features[m]!.dataSync(), start * teacher.classifiers[m]!.inDim);
        out[m]!.logits.set(forward.logits[m]!.dataSync(), start * C);
      }
    });
  }
  return out;
}

/**
 * Two-stage SGFD, step 1: trains the teacher towers, classifiers and fusion branch on the semantic and
 * fusion losses, early-stopped on the category accuracy of a held-out part of the items
 * (`sgfd.teacher.holdoutFraction`), with dropout on its input rows (`sgfd.teacher.inputDropout`), and
 * returns the best teacher's features and logits for every item.
 */
export async function pretrainTeacher(
  rawDataset: LoadedDataset,
  config: RunConfig,
  options: StageOptions = {},
): Promise<TeacherOutputs> {
  const { categories, nCategories } = requireCategories(rawDataset, config);
  requireFeatures(rawDataset);
  const dataset = sgfdInputs(rawDataset, config);
  const { sgfd } = config;
  const tc = sgfd.teacher;
  const rng = createRng(config.training.seed);
  const order = rng.shuffle(Int32Array.from({ length: dataset.nItems }, (_, i) => i));
  const nHoldout = Math.min(dataset.nItems - 1, Math.max(1, Math.round(tc.holdoutFraction * dataset.nItems)));
  const holdout = order.slice(0, nHoldout).sort();
  const trainItems = order.slice(nHoldout);
  const modalities = MODALITIES.filter((m) => dataset.features[m]);
  // The probe blocks for seconds on large feature matrices: report (as epoch 0's batches, which heartbeat in
  // the pipeline) and yield between its solves.
  const probe: PerModality<RidgeProbeResult> = {};
  let solves = 0;
  const afterSolve = async () => {
    options.onProgress?.({
      type: 'batch',
      stage: 'teacher',
      epoch: 0,
      batch: ++solves,
      batches: modalities.length * RIDGE_GRID.length,
    });
    await yieldToEventLoop();
    options.signal?.throwIfAborted();
  };
  for (const m of modalities) {
    probe[m] = await ridgeProbe(dataset.features[m]!, categories, nCategories, trainItems, holdout, afterSolve);
  }

  const features = featureTensors(dataset);
  const labels = tf.tensor1d(categories, 'int32');
  const teacher = new SemanticTeacher(backboneData(dataset).featureDims, nCategories, sgfd, rng);
  const firstLayers = firstLayerNames(teacher, tc.batchSize);
  try {
    const result = await runLoop<TeacherBatch>({
      stage: 'teacher',
      weights: teacher.weights,
      rng,
      maxEpochs: tc.epochs,
      patience: tc.patience,
      evalEvery: 1,
      learningRate: tc.learningRate,
      metric: 'accuracy',
      batches: (r) => {
        const shuffled = r.shuffle(trainItems.slice());
        const out: TeacherBatch[] = [];
        for (let s = 0; s < shuffled.length; s += tc.batchSize) {
          // Drawn with the batch from the loop's generator, so a resumed run masks exactly as an unbroken one.
          out.push({ items: shuffled.slice(s, s + tc.batchSize), dropoutSeed: r.uint32() | 0 });
        }
        return out;
      },
      loss: ({ items, dropoutSeed }) =>
        tidyObject(() => {
          const ids = tf.tensor1d(items, 'int32');
          return teacherPretrainLoss(teacher, rowsOf(features, ids), tf.gather(labels, ids), sgfd, {
            rate: tc.inputDropout,
            seed: dropoutSeed,
          });
        }),
      outerProductLoss: firstLayers
        ? (batch) => firstLayerProducts(teacher, firstLayers, features, labels, batch, { rate: tc.inputDropout, sgfd })
        : undefined,
      validate: () => teacherAccuracy(teacher, features, labels, holdout),
      checkpoint: options.checkpointDir
        ? {
            dir: options.checkpointDir,
            every: config.training.checkpointEvery,
            fingerprint: fingerprint({
              stage: 'teacher',
              dataset: dataset.manifest.id,
              sgfd,
              seed: config.training.seed,
            }),
          }
        : undefined,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const best = result.bestMetrics;
    return {
      nItems: dataset.nItems,
      latentDim: sgfd.latentDim,
      nCategories,
      modalities: collectOutputs(teacher, features, dataset.nItems),
      report: {
        datasetId: dataset.manifest.id,
        bestEpoch: result.bestEpoch,
        epochsRun: result.epochsRun,
        holdoutAccuracy: best['accuracy'],
        perModality: Object.fromEntries(teacher.modalities.map((m) => [m, best[`accuracy.${m}`]])),
        fusionAccuracy: best['accuracy.fusion'] ?? null,
        holdoutItems: nHoldout,
        probe,
        inputTransform: Object.fromEntries(modalities.map((m) => [m, sgfd.inputTransform[m]])),
      },
    };
  } finally {
    teacher.dispose();
    disposeFeatures(features);
    labels.dispose();
  }
}
