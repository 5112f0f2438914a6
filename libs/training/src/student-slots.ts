import { ConfigError, resolveStudentForm, type Modality, type RunConfig } from '@sgfd/contracts';
import { l2NormalizeRows, Student, type Backbone, type BackboneData, type PerModality } from '@sgfd/models';
import type { Rng, tf } from '@sgfd/tensor';

/**
 * Puts SGFD's student in every projection slot of the backbone, in the run's student form: `normalised`
 * replaces the backbone's projection by the authors' Linear + LeakyReLU + L2 normalisation; `projection`
 * keeps the backbone's own projection (its form and initialisation), which then is the student.
 */
export function fillSlotsWithStudents(backbone: Backbone, data: BackboneData, config: RunConfig, rng: Rng): void {
  if (resolveStudentForm(config) === 'projection') {
    if (backbone.projectionDim !== config.sgfd.latentDim) {
      throw new ConfigError(
        `sgfd.studentForm 'projection' distils into ${backbone.name}'s own ${backbone.projectionDim}-wide projection, so sgfd.latentDim must be ${backbone.projectionDim}`,
        { field: 'sgfd.latentDim', expected: `${backbone.projectionDim}`, found: `${config.sgfd.latentDim}` },
      );
    }
    return;
  }
  for (const m of backbone.projectionSlots) {
    backbone.setProjection(m, new Student(data.featureDims[m]!, config.sgfd.latentDim, config.sgfd.leakySlope, rng));
  }
}

/**
 * What the SGFD terms (classifier, LD, FD) read of the slot outputs: the students' own output in the
 * normalised form; in the projection form its L2-normalised rows, so the backbone keeps the feature norm
 * while the direction is pulled towards the teacher's (L2-normalised) features.
 */
export function distilledView(config: RunConfig, slotOutputs: PerModality<tf.Tensor2D>): PerModality<tf.Tensor2D> {
  if (resolveStudentForm(config) === 'normalised') return slotOutputs;
  const out: PerModality<tf.Tensor2D> = {};
  for (const m of Object.keys(slotOutputs) as Modality[]) out[m] = l2NormalizeRows(slotOutputs[m]!);
  return out;
}
