import { tf } from '@sgfd/tensor';
import type { Dense } from './layers';
import { tidyObject } from './ops';

export type StackOrder = 'layer-by-layer' | 'collapsed';

/**
 * Multiply-adds of one training step (forward and backward) through Dense layers of widths `widths`
 * with no activation between them, on `rows` input rows that take no gradient, in either order:
 * - layer by layer: n S forward, n S for the weight gradients, n (S - d0 d1) for the inner input gradients;
 * - collapsed: the weights multiplied right to left first (C), then one n x d0 x dL product; backward
 *   n d0 dL for the product's weight and 2C through the chain.
 */
export function linearStackCost(widths: number[], rows: number): Record<StackOrder, number> {
  const last = widths[widths.length - 1];
  let layerSum = 0;
  let chain = 0;
  for (let i = 1; i < widths.length; i++) {
    layerSum += widths[i - 1] * widths[i];
    if (i < widths.length - 1) chain += widths[i - 1] * widths[i] * last;
  }
  return {
    'layer-by-layer': rows * (3 * layerSum - widths[0] * widths[1]),
    collapsed: 3 * chain + 2 * rows * widths[0] * last,
  };
}

/** The cheaper association of x W_1 ... W_L for `rows` rows (the matrix-chain choice, by FLOPs). */
export function linearStackOrder(widths: number[], rows: number): StackOrder {
  if (widths.length < 3) return 'layer-by-layer';
  const cost = linearStackCost(widths, rows);
  return cost.collapsed < cost['layer-by-layer'] ? 'collapsed' : 'layer-by-layer';
}

/**
 * ((x W_1 + b_1) W_2 + b_2) ... W_L + b_L: one affine map, x M + c with M = W_1 ... W_L and
 * c = b_1 W_2 ... W_L + ... + b_L. Which order is evaluated only changes float rounding and cost: a
 * 4096 -> 1024 -> 256 -> 64 stack on 2,000 rows is 9x fewer FLOPs collapsed, on 64 rows 1.5x more.
 */
export function applyLinearStack(x: tf.Tensor2D, layers: Dense[]): tf.Tensor2D {
  return tf.tidy(() => {
    const { product, offset } = linearStackParts(x, layers);
    return offset ? (tf.add(product, offset) as tf.Tensor2D) : product;
  });
}

/**
 * `applyLinearStack` as its product and its offset (the stack's output is product + offset; offset [D] or
 * [1, D], null without biases), for a head that adds the offset itself (see leakyNormalize).
 */
export function linearStackParts(x: tf.Tensor2D, layers: Dense[]): { product: tf.Tensor2D; offset: tf.Tensor | null } {
  const widths = [layers[0].inDim, ...layers.map((l) => l.outDim)];
  const top = layers[layers.length - 1];
  return tidyObject(() => {
    if (linearStackOrder(widths, x.shape[0]) === 'layer-by-layer') {
      const h = layers.slice(0, -1).reduce((rows, layer) => layer.apply(rows), x);
      // The bias variable itself: tidy never disposes a variable.
      return { product: tf.matMul(h, top.kernel) as tf.Tensor2D, offset: top.bias };
    }
    let product: tf.Tensor2D = top.kernel as tf.Tensor2D;
    let offset: tf.Tensor2D | null = top.bias ? (top.bias.reshape([1, -1]) as tf.Tensor2D) : null;
    for (let i = layers.length - 2; i >= 0; i--) {
      const { kernel, bias } = layers[i];
      if (bias) {
        const carried = tf.matMul(bias.reshape([1, -1]), product) as tf.Tensor2D;
        offset = offset ? (tf.add(offset, carried) as tf.Tensor2D) : carried;
      }
      product = tf.matMul(kernel, product) as tf.Tensor2D;
    }
    return { product: tf.matMul(x, product) as tf.Tensor2D, offset };
  });
}
