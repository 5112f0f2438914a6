import { tf, type Rng } from '@sgfd/tensor';
import { activate, Dense, leakyNormalize, type Activation } from '../layers';
import { applyLinearStack } from '../linear-stack';
import { prefixed, type NamedVariables } from '../params';

/**
 * Widths of the teacher stack: divide by 4 per layer until the latent size (4096 -> 1024 -> 256 -> 64,
 * 384 -> 96 -> 64); a step that would fall below the latent size goes straight to it, as the authors'
 * TeacherModel does. Unlike their loop, each layer's input is the previous layer's real width, so
 * widths not divisible by 4 (e.g. 300) also work.
 */
export function teacherWidths(inDim: number, latentDim: number): number[] {
  const widths = [inDim];
  let width = inDim;
  for (;;) {
    const next = Math.floor(width / 4);
    if (next <= latentDim) {
      widths.push(latentDim);
      return widths;
    }
    widths.push(next);
    width = next;
  }
}

export interface TowerOptions {
  latentDim: number;
  activation: Activation;
  leakySlope: number;
}

/** T_m: the deep extractor, f^T = norm(leaky(T(x))); `activation` goes between its layers only. */
export class TeacherTower {
  readonly layers: Dense[];

  constructor(
    readonly inDim: number,
    private readonly options: TowerOptions,
    rng: Rng,
  ) {
    const widths = teacherWidths(inDim, options.latentDim);
    this.layers = widths.slice(1).map((out, i) => new Dense(widths[i], out, rng));
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      // The authors' stack has no activation: one affine map, evaluated in its cheaper association order.
      if (this.options.activation === 'none')
        return leakyNormalize(applyLinearStack(x, this.layers), this.options.leakySlope);
      let h = x;
      this.layers.forEach((layer, i) => {
        h = layer.apply(h);
        if (i < this.layers.length - 1) h = activate(h, this.options.activation, this.options.leakySlope);
      });
      return leakyNormalize(h, this.options.leakySlope);
    });
  }

  get weights(): NamedVariables {
    return Object.assign({}, ...this.layers.map((l, i) => prefixed(`layer${i}`, l.weights)));
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
