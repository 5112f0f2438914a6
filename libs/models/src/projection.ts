import type { Rng, tf } from '@sgfd/tensor';
import { Dense, type BiasInit, type KernelInit } from './layers';
import type { NamedVariables } from './params';

/**
 * What a backbone's modality slot holds: a map from raw feature rows [n, inDim] to [n, outDim].
 * Backbones fill their slots with their own linear layer; SGFD fills them with its students.
 * The holder of a projection owns it (disposes it).
 */
export interface Projection {
  /** Recorded with saved models so a load can rebuild the same slot filler ('linear', 'sgfd-student'). */
  readonly kind: string;
  readonly inDim: number;
  readonly outDim: number;
  readonly weights: NamedVariables;
  apply(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/** A backbone's own slot filler: one linear layer (MMRec's `item_linear`, BM3's `image_trs`/`text_trs`). */
export class LinearProjection implements Projection {
  readonly kind = 'linear';
  readonly layer: Dense;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng,
    options: { kernelInit?: KernelInit; biasInit?: BiasInit } = {},
  ) {
    this.layer = new Dense(inDim, outDim, rng, options);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return this.layer.apply(x);
  }

  get weights(): NamedVariables {
    return this.layer.weights;
  }

  dispose(): void {
    this.layer.dispose();
  }
}
