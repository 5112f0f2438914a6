import { seededUniform } from './kernels';
import { customOpsAvailable, statelessDropoutFused } from './native/custom-ops';
import type { Rng } from './rng';
import { tf } from './tf';

/** fan_in / fan_out as Keras computes them: last two axes, times the receptive field for rank > 2. */
function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Values in row-major order, drawn from `draw` one after another (so the same seed gives the same tensor). */
export function seededValues(shape: readonly number[], draw: () => number): Float32Array {
  const values = new Float32Array(size(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw();
  return values;
}

/** Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform(rng: Rng, shape: readonly number[]): tf.Tensor {
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.tensor(
    seededValues(shape, () => (2 * rng.float() - 1) * limit),
    [...shape],
    'float32',
  );
}

/** Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out)) (untruncated, as torch.nn.init.xavier_normal_). */
export function xavierNormal(rng: Rng, shape: readonly number[]): tf.Tensor {
  const { fanIn, fanOut } = fans(shape);
  const std = Math.sqrt(2 / (fanIn + fanOut));
  return tf.tensor(
    seededValues(shape, () => rng.normal() * std),
    [...shape],
    'float32',
  );
}

/** N(0, std^2). */
export function normalInit(rng: Rng, shape: readonly number[], std: number): tf.Tensor {
  return tf.tensor(
    seededValues(shape, () => rng.normal() * std),
    [...shape],
    'float32',
  );
}

function checkDropoutRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
}

/**
 * Inverted-dropout mask: each entry is 0 with probability `rate`, else 1 / (1 - rate), so
 * `x.mul(mask)` keeps the expected value of x. Drawn from `rng`, not from tfjs's global random state.
 */
export function dropoutMask(rng: Rng, shape: readonly number[], rate: number): tf.Tensor {
  checkDropoutRate(rate);
  const keep = 1 / (1 - rate);
  return tf.tensor(
    seededValues(shape, () => (rng.float() < rate ? 0 : keep)),
    [...shape],
    'float32',
  );
}

/**
 * The inverted-dropout mask of `dropoutMask` drawn from `seededUniform(shape, seed, stream)`: on the native
 * engine without a JavaScript loop over its entries (for masks as wide as a batch of 4,096-d features).
 */
export function seededDropoutMask(seed: number, stream: number, shape: readonly number[], rate: number): tf.Tensor {
  checkDropoutRate(rate);
  return tf.tidy(() =>
    tf.mul(tf.cast(tf.greaterEqual(seededUniform(shape, seed, stream), rate), 'float32'), 1 / (1 - rate)),
  );
}

/**
 * x times `seededDropoutMask(seed, stream, x.shape, rate)`: on the native engine one custom op that draws the
 * same mask to the bit (about six ops and a mask-sized temporary fewer per call).
 */
export function seededDropout<T extends tf.Tensor>(x: T, seed: number, stream: number, rate: number): T {
  checkDropoutRate(rate);
  if (customOpsAvailable()) return statelessDropoutFused(x, seed, stream, rate) as T;
  return tf.tidy(() => tf.mul(x, seededDropoutMask(seed, stream, x.shape, rate))) as T;
}
