import {
  biasLeakyNormalizeFused,
  customOpsAvailable,
  normalInit,
  seededValues,
  tf,
  xavierNormal,
  xavierUniform,
  type Rng,
} from '@sgfd/tensor';
import { L2_NORMALIZE_EPS, l2NormalizeRows } from './ops';
import { createVariable, type NamedVariables } from './params';

/** Glorot uniform/normal, or N(0, std^2) (e.g. to match a torch layer whose fan differs from ours). */
export type KernelInit = 'xavierUniform' | 'xavierNormal' | { normalStd: number };
/** `zeros`, or torch.nn.Linear's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export type BiasInit = 'zeros' | 'torchDefault' | 'none';

export interface DenseOptions {
  kernelInit?: KernelInit;
  biasInit?: BiasInit;
}

/** y = x W + b with W stored [inDim, outDim]. */
export class Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng,
    options: DenseOptions = {},
  ) {
    const { kernelInit = 'xavierUniform', biasInit = 'zeros' } = options;
    const shape = [inDim, outDim];
    this.kernel = createVariable(
      typeof kernelInit === 'object'
        ? normalInit(rng, shape, kernelInit.normalStd)
        : (kernelInit === 'xavierNormal' ? xavierNormal : xavierUniform)(rng, shape),
    );
    if (biasInit === 'none') this.bias = null;
    else if (biasInit === 'zeros') this.bias = createVariable(tf.zeros([outDim]));
    else {
      const bound = 1 / Math.sqrt(inDim);
      this.bias = createVariable(tf.tensor1d(seededValues([outDim], () => (2 * rng.float() - 1) * bound)));
    }
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const y = tf.matMul(x, this.kernel) as tf.Tensor2D;
      return this.bias ? (tf.add(y, this.bias) as tf.Tensor2D) : y;
    });
  }

  get weights(): NamedVariables {
    return this.bias ? { kernel: this.kernel, bias: this.bias } : { kernel: this.kernel };
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias?.dispose();
  }
}

/**
 * SGFD's output head of every extractor: LeakyReLU, then L2 normalisation of each row, of x + bias (a
 * linear layer's product and its bias, [D] or [1, D]; null: x alone). The native engine's one fused op
 * each way where it is built.
 */
export function leakyNormalize(x: tf.Tensor2D, slope: number, bias: tf.Tensor | null = null): tf.Tensor2D {
  if (customOpsAvailable()) return biasLeakyNormalizeFused(x, bias, slope, L2_NORMALIZE_EPS);
  return tf.tidy(() => l2NormalizeRows(tf.leakyRelu(bias ? (tf.add(x, bias) as tf.Tensor2D) : x, slope)));
}

export type Activation = 'none' | 'leaky_relu' | 'relu' | 'tanh';

export function activate(x: tf.Tensor2D, activation: Activation, leakySlope: number): tf.Tensor2D {
  switch (activation) {
    case 'none':
      return x;
    case 'leaky_relu':
      return tf.leakyRelu(x, leakySlope);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
}
