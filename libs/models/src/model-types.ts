// Types every part of the models lib shares: per-modality values, a loss with its named parts, item features.
import type { Modality } from '@sgfd/contracts';
import type { tf } from '@sgfd/tensor';

/** One value per modality present (image, text). */
export type PerModality<T> = Partial<Record<Modality, T>>;

/** A total loss and its named parts (all scalars owned by the caller's tidy scope). */
export interface LossTerms {
  total: tf.Scalar;
  parts: Record<string, tf.Scalar>;
}

/** Every item's raw features, one [nItems, dim] tensor per modality. */
export type FeatureTensors = PerModality<tf.Tensor2D>;
