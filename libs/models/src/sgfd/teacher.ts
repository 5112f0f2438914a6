import { tf, type Rng } from '@sgfd/tensor';
import { activate, Dense, leakyNormalize, type Activation } from '../layers';
import { linearStackOrder, linearStackParts } from '../linear-stack';
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
      if (this.options.activation === 'none') return this.head(linearStackParts(x, this.layers));
      let h = x;
      for (const layer of this.layers.slice(0, -1)) h = this.activate(layer.apply(h));
      return this.lastLayerHead(h);
    });
  }

  /** Whether `apply` on `rows` rows starts with the first layer's product x W_1 (and not the collapsed stack). */
  startsWithFirstProduct(rows: number): boolean {
    const widths = [this.inDim, ...this.layers.map((l) => l.outDim)];
    return this.options.activation !== 'none' || linearStackOrder(widths, rows) === 'layer-by-layer';
  }

  /**
   * The same output from x W_1 made elsewhere (`firstProduct`): the first layer's bias, then the other
   * layers as `apply` runs them. A trainer that makes the product outside its gradient scope gets the
   * product's gradient instead of W_1's (see the training loop's outer-product loss).
   */
  applyFromFirstProduct(firstProduct: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [first, ...rest] = this.layers;
      if (rest.length === 0) return this.head({ product: firstProduct, offset: first.bias });
      let h = first.bias ? (tf.add(firstProduct, first.bias) as tf.Tensor2D) : firstProduct;
      if (this.options.activation === 'none') return this.head(linearStackParts(h, rest));
      for (const layer of rest.slice(0, -1)) h = layer.apply(this.activate(h));
      return this.lastLayerHead(this.activate(h));
    });
  }

  /** f^T from the last layer's input rows: its product, then its bias inside the head. */
  private lastLayerHead(h: tf.Tensor2D): tf.Tensor2D {
    const last = this.layers[this.layers.length - 1];
    return this.head({ product: tf.matMul(h, last.kernel) as tf.Tensor2D, offset: last.bias });
  }

  /** norm(leaky(product + offset)): the head adds the last bias (one fused op natively). */
  private head({ product, offset }: { product: tf.Tensor2D; offset: tf.Tensor | null }): tf.Tensor2D {
    return leakyNormalize(product, this.options.leakySlope, offset);
  }

  private activate(h: tf.Tensor2D): tf.Tensor2D {
    return activate(h, this.options.activation, this.options.leakySlope);
  }

  get weights(): NamedVariables {
    return Object.assign({}, ...this.layers.map((l, i) => prefixed(`layer${i}`, l.weights)));
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
