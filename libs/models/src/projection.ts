import type { tf } from '@sgfd/tensor';
import type { NamedVariables } from './params';

/**
 * What a backbone's modality slot holds: a map from raw feature rows [n, inDim] to [n, outDim].
 * Backbones fill their slots with their own linear layer; SGFD fills them with its students.
 * The holder of a projection owns it (disposes it).
 */
export interface Projection {
  readonly inDim: number;
  readonly outDim: number;
  readonly weights: NamedVariables;
  apply(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}
