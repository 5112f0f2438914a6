import { DatasetError, MODALITIES, type Modality } from '@sgfd/contracts';
import { tf } from '@sgfd/tensor';
import { readTensorFile, tensorIndexPath, writeTensorFile, type StoredArrays } from '../io/tensor-file';
import type { PerModality } from '../model-types';

/** The frozen teacher of one modality, for every item. */
export interface TeacherModalityOutputs {
  /** f^T_m, row-major [nItems, latentDim]. */
  features: Float32Array;
  /** C_m(f^T_m), row-major [nItems, nCategories]. */
  logits: Float32Array;
  /** C_m itself ([latentDim, nCategories] and [nCategories]): the students share it. */
  classifierKernel: Float32Array;
  classifierBias: Float32Array;
}

export interface TeacherReport {
  datasetId: string;
  bestEpoch: number;
  epochsRun: number;
  /** Category accuracy on the held-out items: mean over modalities, per modality, and of the fusion head. */
  holdoutAccuracy: number;
  perModality: PerModality<number>;
  fusionAccuracy: number | null;
  holdoutItems: number;
  /**
   * Held-out accuracy of a closed-form ridge probe on the same (transformed) features, per modality: what
   * a linear map can reach, so a teacher far below it is undertrained. Absent in artifacts of older versions.
   */
  probe?: PerModality<{ accuracy: number; ridge: number }>;
  /** The input transform per modality the teacher read; the students must read the same. */
  inputTransform?: PerModality<string>;
}

/** What teacher pretraining hands to student distillation (written to a directory between workers). */
export interface TeacherOutputs {
  nItems: number;
  latentDim: number;
  nCategories: number;
  modalities: PerModality<TeacherModalityOutputs>;
  report: TeacherReport;
}

const BASE = 'teacher';

export async function saveTeacherOutputs(dir: string, outputs: TeacherOutputs): Promise<void> {
  const { nItems, latentDim, nCategories } = outputs;
  const arrays: StoredArrays = {};
  for (const m of MODALITIES) {
    const o = outputs.modalities[m];
    if (!o) continue;
    arrays[`${m}.features`] = { shape: [nItems, latentDim], data: o.features };
    arrays[`${m}.logits`] = { shape: [nItems, nCategories], data: o.logits };
    arrays[`${m}.classifier.kernel`] = { shape: [latentDim, nCategories], data: o.classifierKernel };
    arrays[`${m}.classifier.bias`] = { shape: [nCategories], data: o.classifierBias };
  }
  await writeTensorFile(dir, BASE, arrays, {
    kind: 'sgfd-teacher-outputs',
    nItems,
    latentDim,
    nCategories,
    report: outputs.report,
  });
}

export async function loadTeacherOutputs(dir: string): Promise<TeacherOutputs> {
  const { arrays, meta } = await readTensorFile(dir, BASE);
  const file = tensorIndexPath(dir, BASE);
  const m = meta as {
    kind?: string;
    nItems: number;
    latentDim: number;
    nCategories: number;
    report: TeacherReport;
  } | null;
  if (!m || m.kind !== 'sgfd-teacher-outputs') {
    throw new DatasetError('Not a teacher-outputs file', {
      file,
      field: 'meta.kind',
      expected: 'sgfd-teacher-outputs',
    });
  }
  const modalities: PerModality<TeacherModalityOutputs> = {};
  for (const name of MODALITIES) {
    if (!arrays[`${name}.features`]) continue;
    const get = (key: string, shape: number[]): Float32Array => {
      const a = arrays[`${name}.${key}`];
      if (!a || a.shape.join('x') !== shape.join('x') || !(a.data instanceof Float32Array)) {
        throw new DatasetError('Teacher outputs are incomplete', {
          file,
          field: `${name}.${key}`,
          expected: `float32 [${shape}]`,
        });
      }
      return a.data;
    };
    modalities[name] = {
      features: get('features', [m.nItems, m.latentDim]),
      logits: get('logits', [m.nItems, m.nCategories]),
      classifierKernel: get('classifier.kernel', [m.latentDim, m.nCategories]),
      classifierBias: get('classifier.bias', [m.nCategories]),
    };
  }
  if (Object.keys(modalities).length === 0) throw new DatasetError('Teacher outputs hold no modality', { file });
  return { nItems: m.nItems, latentDim: m.latentDim, nCategories: m.nCategories, modalities, report: m.report };
}

/** Teacher outputs as constant tensors, for the student's training loop (no gradients, no variables). */
export class FrozenTeacher {
  readonly modalities: Modality[];
  private readonly features: PerModality<tf.Tensor2D> = {};
  private readonly logits: PerModality<tf.Tensor2D> = {};
  private readonly kernels: PerModality<tf.Tensor2D> = {};
  private readonly biases: PerModality<tf.Tensor1D> = {};

  constructor(outputs: TeacherOutputs) {
    this.modalities = MODALITIES.filter((m) => outputs.modalities[m] !== undefined);
    const { nItems, latentDim, nCategories } = outputs;
    for (const m of this.modalities) {
      const o = outputs.modalities[m]!;
      this.features[m] = tf.tensor2d(o.features, [nItems, latentDim]);
      this.logits[m] = tf.tensor2d(o.logits, [nItems, nCategories]);
      this.kernels[m] = tf.tensor2d(o.classifierKernel, [latentDim, nCategories]);
      this.biases[m] = tf.tensor1d(o.classifierBias);
    }
  }

  /** The teacher's features and logits of the given items, for the modalities asked. */
  rows(
    items: tf.Tensor1D,
    modalities: Modality[],
  ): { features: PerModality<tf.Tensor2D>; logits: PerModality<tf.Tensor2D> } {
    const features: PerModality<tf.Tensor2D> = {};
    const logits: PerModality<tf.Tensor2D> = {};
    for (const m of modalities) {
      if (!this.features[m]) throw new Error(`the teacher has no ${m} outputs`);
      features[m] = tf.gather(this.features[m]!, items);
      logits[m] = tf.gather(this.logits[m]!, items);
    }
    return { features, logits };
  }

  /** C_m applied to (student) features. */
  classify(modality: Modality, features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(features, this.kernels[modality]!), this.biases[modality]!));
  }

  dispose(): void {
    for (const m of this.modalities) {
      tf.dispose([this.features[m]!, this.logits[m]!, this.kernels[m]!, this.biases[m]!]);
    }
  }
}
