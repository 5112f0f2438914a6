import { ConfigError, MODALITIES, type Modality, type RunConfig } from '@sgfd/contracts';
import {
  distillationLoss,
  FrozenTeacher,
  jointLoss,
  prefixed,
  SemanticTeacher,
  tidyObject,
  type Backbone,
  type BackboneData,
  type LossTerms,
  type NamedVariables,
  type PerModality,
  type TeacherOutputs,
  type TrainBatch,
} from '@sgfd/models';
import { tf, type Rng } from '@sgfd/tensor';
import { distilledView, fillSlotsWithStudents } from './student-slots';

/** What the student loop minimises, and over which variables. */
export interface StudentObjective {
  weights: NamedVariables;
  loss(batch: TrainBatch): LossTerms;
  dispose(): void;
}

/** Plain backbone (`off`). */
function plainObjective(backbone: Backbone): StudentObjective {
  return {
    weights: backbone.weights,
    loss: (batch) =>
      tidyObject(() => {
        const { total, parts } = backbone.loss(batch);
        return { total, parts };
      }),
    dispose: () => undefined,
  };
}

/** The SGFD loss parts a control run records: each exactly 0, as no SGFD term is computed. */
export const CONTROL_PARTS = ['sgfd.ce', 'sgfd.ld', 'sgfd.fd'] as const;

/**
 * The authors' ablation (`control`): the students in the slots, trained on the backbone loss alone
 * (ce_weight = kd_weight = 0, no teacher). The SGFD parts are recorded as exact zeros so its curve has the
 * same columns as a two-stage run's.
 */
function controlObjective(backbone: Backbone, data: BackboneData, config: RunConfig, rng: Rng): StudentObjective {
  fillSlotsWithStudents(backbone, data, config, rng);
  return {
    weights: backbone.weights,
    loss: (batch) =>
      tidyObject(() => {
        const { total, parts } = backbone.loss(batch);
        const zeros = Object.fromEntries(CONTROL_PARTS.map((p) => [p, tf.scalar(0)]));
        return { total, parts: { ...parts, ...zeros } };
      }),
    dispose: () => undefined,
  };
}

function projectedOf(
  backbone: Backbone,
  out: ReturnType<Backbone['loss']>,
  config: RunConfig,
): { items: tf.Tensor1D; raw: PerModality<tf.Tensor2D>; student: PerModality<tf.Tensor2D> } {
  const raw: PerModality<tf.Tensor2D> = {};
  const slotOutputs: PerModality<tf.Tensor2D> = {};
  for (const m of backbone.projectionSlots) {
    raw[m] = out.projected[m]!.raw;
    slotOutputs[m] = out.projected[m]!.features;
  }
  return { items: out.projected[backbone.projectionSlots[0]]!.items, raw, student: distilledView(config, slotOutputs) };
}

function checkTeacherOutputs(
  outputs: TeacherOutputs,
  data: BackboneData,
  nCategories: number,
  config: RunConfig,
  slots: readonly Modality[],
): void {
  const problems: [string, string, string][] = [];
  if (outputs.nItems !== data.nItems) problems.push(['nItems', `${data.nItems}`, `${outputs.nItems}`]);
  if (outputs.nCategories !== nCategories) problems.push(['nCategories', `${nCategories}`, `${outputs.nCategories}`]);
  if (outputs.latentDim !== config.sgfd.latentDim)
    problems.push(['sgfd.latentDim', `${config.sgfd.latentDim}`, `${outputs.latentDim}`]);
  for (const m of slots) {
    const read = outputs.report.inputTransform?.[m] ?? 'none';
    if (read !== config.sgfd.inputTransform[m])
      problems.push([`sgfd.inputTransform.${m}`, config.sgfd.inputTransform[m], read]);
  }
  const missing = slots.filter((m) => !outputs.modalities[m]);
  if (missing.length)
    problems.push(['modalities', slots.join(', '), MODALITIES.filter((m) => outputs.modalities[m]).join(', ')]);
  if (problems.length) {
    const [field, expected, found] = problems[0];
    throw new ConfigError('The teacher outputs were made for another dataset or configuration', {
      field,
      expected,
      found,
    });
  }
}

/**
 * Two-stage SGFD, step 2: students fill the backbone's slots and learn from the backbone loss plus
 * ce_weight CE(student) + kd_weight (LD + FD) against the frozen teacher rows of the same items.
 * The teacher never runs here: its outputs are constant tensors.
 */
function twoStageObjective(
  backbone: Backbone,
  data: BackboneData,
  categories: tf.Tensor1D,
  nCategories: number,
  outputs: TeacherOutputs,
  config: RunConfig,
  rng: Rng,
): StudentObjective {
  checkTeacherOutputs(outputs, data, nCategories, config, backbone.projectionSlots);
  fillSlotsWithStudents(backbone, data, config, rng);
  const frozen = new FrozenTeacher(outputs);
  return {
    weights: backbone.weights,
    loss: (batch) =>
      tidyObject(() => {
        const out = backbone.loss(batch);
        const { items, student } = projectedOf(backbone, out, config);
        const target = frozen.rows(items, backbone.projectionSlots as Modality[]);
        const labels = tf.gather(categories, items) as tf.Tensor1D;
        const sgfd = distillationLoss(
          target.features,
          target.logits,
          student,
          labels,
          (m, f) => frozen.classify(m, f),
          config.sgfd,
        );
        return { total: tf.add(out.total, sgfd.total) as tf.Scalar, parts: { ...out.parts, ...sgfd.parts } };
      }),
    dispose: () => frozen.dispose(),
  };
}

/**
 * Joint SGFD (the authors' code): teacher towers, classifiers, fusion, students and backbone trained
 * together with one optimiser on L_backbone + ce_weight (CE_T + fuse) + kd_weight (LD + FD).
 */
function jointObjective(
  backbone: Backbone,
  data: BackboneData,
  categories: tf.Tensor1D,
  nCategories: number,
  config: RunConfig,
  rng: Rng,
): StudentObjective {
  const teacher = new SemanticTeacher(data.featureDims, nCategories, config.sgfd, rng);
  fillSlotsWithStudents(backbone, data, config, rng);
  return {
    weights: { ...backbone.weights, ...prefixed('sgfd', teacher.weights) },
    loss: (batch) =>
      tidyObject(() => {
        const out = backbone.loss(batch);
        const { items, raw, student } = projectedOf(backbone, out, config);
        const labels = tf.gather(categories, items) as tf.Tensor1D;
        const sgfd = jointLoss(teacher, raw, student, labels, config.sgfd);
        return { total: tf.add(out.total, sgfd.total) as tf.Scalar, parts: { ...out.parts, ...sgfd.parts } };
      }),
    dispose: () => teacher.dispose(),
  };
}

export interface ObjectiveInputs {
  backbone: Backbone;
  data: BackboneData;
  config: RunConfig;
  rng: Rng;
  /** Item categories on the device (SGFD modes only). */
  categories: tf.Tensor1D | null;
  nCategories: number | null;
  teacherOutputs: TeacherOutputs | null;
}

export function buildObjective(inputs: ObjectiveInputs): StudentObjective {
  const { backbone, data, config, rng, categories, nCategories, teacherOutputs } = inputs;
  switch (config.sgfd.mode) {
    case 'off':
      return plainObjective(backbone);
    case 'control':
      return controlObjective(backbone, data, config, rng);
    case 'two-stage':
      if (!teacherOutputs) {
        throw new ConfigError(
          "sgfd.mode 'two-stage' distils from teacher outputs: run pretrainTeacher first and pass its outputs",
          {
            field: 'sgfd.mode',
          },
        );
      }
      return twoStageObjective(backbone, data, categories!, nCategories!, teacherOutputs, config, rng);
    case 'joint':
      return jointObjective(backbone, data, categories!, nCategories!, config, rng);
  }
}
