import { tf, type Rng } from '@sgfd/tensor';
import { Dense, leakyNormalize } from '../layers';
import type { NamedVariables } from '../params';
import type { Projection } from '../projection';

/** S_m: one linear layer, LeakyReLU, L2 normalisation. It fills a backbone's projection slot. */
export class Student implements Projection {
  readonly kind = 'sgfd-student';
  readonly layer: Dense;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    private readonly leakySlope: number,
    rng: Rng,
  ) {
    this.layer = new Dense(inDim, outDim, rng);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() =>
      leakyNormalize(tf.matMul(x, this.layer.kernel) as tf.Tensor2D, this.leakySlope, this.layer.bias),
    );
  }

  get weights(): NamedVariables {
    return this.layer.weights;
  }

  dispose(): void {
    this.layer.dispose();
  }
}
