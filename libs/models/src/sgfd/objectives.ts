import type { Modality, SgfdConfig } from '@sgfd/contracts';
import { seededDropout, tf } from '@sgfd/tensor';
import { meanOfScalars, tidyObject } from '../ops';
import {
  classifierCrossEntropy,
  crossEntropy,
  featureDistillation,
  jointModalityTerms,
  responseDistillation,
} from './losses';
import type { LossTerms, PerModality } from '../model-types';
import type { SemanticTeacher } from './semantic-teacher';

export type LossOptions = Pick<SgfdConfig, 'ceWeight' | 'kdWeight' | 'tau' | 'responseLoss' | 'authorsDoubleSoftmax'>;

/** Maps modality features to category logits with that modality's classifier C_m. */
export type Classify = (modality: Modality, features: tf.Tensor2D) => tf.Tensor2D;

function presentIn<T>(values: PerModality<T>): Modality[] {
  return (Object.keys(values) as Modality[]).filter((m) => values[m] !== undefined);
}

/** Inverted dropout of the teacher's input rows: a fresh mask per step, from `seed` (modality k: stream k). */
export interface InputDropout {
  rate: number;
  seed: number;
}

function dropInputs(raw: PerModality<tf.Tensor2D>, dropout: InputDropout | undefined): PerModality<tf.Tensor2D> {
  if (!dropout || dropout.rate === 0) return raw;
  const out: PerModality<tf.Tensor2D> = {};
  presentIn(raw).forEach((m, k) => {
    const x = raw[m]!;
    out[m] = seededDropout(x, dropout.seed, k, dropout.rate);
  });
  return out;
}

/**
 * Teacher pretraining (two-stage, step 1): mean_m CE(C_m(f^T_m), y) + L_fuse. `raw` holds the feature
 * rows of the same items in every modality, `labels` their categories; `dropout` masks those rows first.
 */
export function teacherPretrainLoss(
  teacher: SemanticTeacher,
  raw: PerModality<tf.Tensor2D>,
  labels: tf.Tensor1D,
  options: Pick<SgfdConfig, 'authorsDoubleSoftmax'>,
  dropout?: InputDropout,
): LossTerms {
  return tidyObject(() => pretrainTerms(teacher, teacher.features(dropInputs(raw, dropout)), labels, options));
}

/** A tower's input rows (after dropout) and their product x W_1 with its first layer's kernel. */
export interface FirstProduct {
  rows: tf.Tensor2D;
  product: tf.Tensor2D;
}

/**
 * The first step of `teacherPretrainLoss` on its own: every tower's dropped-out rows and first-layer
 * product, or null when a tower would not start with that product on this many rows (its collapsed stack
 * is cheaper). The tensors are the caller's; `teacherPretrainLossFromProducts` finishes the loss.
 */
export function teacherFirstProducts(
  teacher: SemanticTeacher,
  raw: PerModality<tf.Tensor2D>,
  dropout?: InputDropout,
): PerModality<FirstProduct> | null {
  const nRows = raw[teacher.modalities[0]]!.shape[0];
  if (!teacher.modalities.every((m) => teacher.towers[m]!.startsWithFirstProduct(nRows))) return null;
  return tidyObject(() => {
    const rows = dropInputs(raw, dropout);
    const out: PerModality<FirstProduct> = {};
    for (const m of teacher.modalities) {
      // A copy when no dropout ran: the caller disposes these rows, which must not be the raw ones.
      const x = rows[m] === raw[m] ? (tf.clone(rows[m]!) as tf.Tensor2D) : rows[m]!;
      out[m] = { rows: x, product: tf.matMul(x, teacher.towers[m]!.layers[0].kernel) as tf.Tensor2D };
    }
    return out;
  });
}

/** `teacherPretrainLoss` from `teacherFirstProducts`' products (the same value, up to float rounding). */
export function teacherPretrainLossFromProducts(
  teacher: SemanticTeacher,
  products: PerModality<FirstProduct>,
  labels: tf.Tensor1D,
  options: Pick<SgfdConfig, 'authorsDoubleSoftmax'>,
): LossTerms {
  return tidyObject(() => {
    const firstProducts: PerModality<tf.Tensor2D> = {};
    for (const m of teacher.modalities) firstProducts[m] = products[m]!.product;
    return pretrainTerms(teacher, teacher.featuresFromFirstProducts(firstProducts), labels, options);
  });
}

function pretrainTerms(
  teacher: SemanticTeacher,
  features: PerModality<tf.Tensor2D>,
  labels: tf.Tensor1D,
  options: Pick<SgfdConfig, 'authorsDoubleSoftmax'>,
): LossTerms {
  const ce = meanOfScalars(
    teacher.modalities.map((m) =>
      classifierCrossEntropy(features[m]!, teacher.classifiers[m]!, labels, options.authorsDoubleSoftmax),
    ),
  );
  const parts: Record<string, tf.Scalar> = { 'sgfd.ce': ce };
  const fusionHidden = teacher.fusionHidden(features);
  if (fusionHidden) parts['sgfd.fuse'] = classifierCrossEntropy(fusionHidden, teacher.fusion!.classifier, labels);
  return { total: tf.addN(Object.values(parts)) as tf.Scalar, parts };
}

/** mean_m LD_m and mean_m FD_m over the modalities of `student`. */
function distillationTerms(
  teacherFeatures: PerModality<tf.Tensor2D>,
  teacherLogits: PerModality<tf.Tensor2D>,
  studentFeatures: PerModality<tf.Tensor2D>,
  studentLogits: PerModality<tf.Tensor2D>,
  options: LossOptions,
): { ld: tf.Scalar; fd: tf.Scalar } {
  const modalities = presentIn(studentFeatures);
  return {
    ld: meanOfScalars(
      modalities.map((m) =>
        responseDistillation(teacherLogits[m]!, studentLogits[m]!, options.tau, options.responseLoss),
      ),
    ),
    fd: meanOfScalars(modalities.map((m) => featureDistillation(studentFeatures[m]!, teacherFeatures[m]!))),
  };
}

/**
 * The joint schedule (the authors' code): ce_weight (mean_m CE_T,m + L_fuse) + kd_weight (mean_m LD_m +
 * mean_m FD_m). Teacher, classifiers, fusion and students all receive gradients, LD and FD included.
 * `raw` and `studentFeatures` are rows of the same items.
 */
export function jointLoss(
  teacher: SemanticTeacher,
  raw: PerModality<tf.Tensor2D>,
  studentFeatures: PerModality<tf.Tensor2D>,
  labels: tf.Tensor1D,
  options: LossOptions,
): LossTerms {
  return tf.tidy(() => {
    const features = teacher.features(raw);
    const students = presentIn(studentFeatures);
    // Each modality's [CE_T, LD, FD], weighted so that their sum is [mean_m CE_T,m, mean_m LD_m, mean_m FD_m]
    // (LD and FD over the modalities with a student).
    const weighted = teacher.modalities.map((m) => {
      const hasStudent = students.includes(m);
      const terms = jointModalityTerms(
        features[m]!,
        studentFeatures[m] ?? null,
        teacher.classifiers[m]!,
        labels,
        options,
      );
      const perStudent = hasStudent ? 1 / students.length : 0;
      return tf.mul(terms, tf.tensor1d([1 / teacher.modalities.length, perStudent, perStudent]));
    });
    const [ce, ld, fd] = tf.unstack(tf.addN(weighted)) as tf.Scalar[];
    const fusionHidden = teacher.fusionHidden(features);
    const fuse = fusionHidden ? classifierCrossEntropy(fusionHidden, teacher.fusion!.classifier, labels) : tf.scalar(0);
    const total = tf.add(
      tf.mul(tf.add(ce, fuse), options.ceWeight),
      tf.mul(tf.add(ld, fd), options.kdWeight),
    ) as tf.Scalar;
    return { total, parts: { 'sgfd.ce': ce, 'sgfd.fuse': fuse, 'sgfd.ld': ld, 'sgfd.fd': fd } };
  });
}

/**
 * Student distillation (two-stage, step 2): ce_weight mean_m CE(C_m(f^S_m), y) + kd_weight (mean_m LD_m +
 * mean_m FD_m), against the frozen teacher's features and logits for the same rows. `classify` applies the
 * teacher's (frozen) classifiers.
 */
export function distillationLoss(
  teacherFeatures: PerModality<tf.Tensor2D>,
  teacherLogits: PerModality<tf.Tensor2D>,
  studentFeatures: PerModality<tf.Tensor2D>,
  labels: tf.Tensor1D,
  classify: Classify,
  options: LossOptions,
): LossTerms {
  return tf.tidy(() => {
    const modalities = presentIn(studentFeatures);
    const studentLogits: PerModality<tf.Tensor2D> = {};
    for (const m of modalities) studentLogits[m] = classify(m, studentFeatures[m]!);
    const ce = meanOfScalars(
      modalities.map((m) => crossEntropy(studentLogits[m]!, labels, options.authorsDoubleSoftmax)),
    );
    const { ld, fd } = distillationTerms(teacherFeatures, teacherLogits, studentFeatures, studentLogits, options);
    const total = tf.add(tf.mul(ce, options.ceWeight), tf.mul(tf.add(ld, fd), options.kdWeight)) as tf.Scalar;
    return { total, parts: { 'sgfd.ce': ce, 'sgfd.ld': ld, 'sgfd.fd': fd } };
  });
}
