import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';

/**
 * Widest right operand for which a^T b is computed as (b^T a)^T. TensorFlow's CPU product with a transposed
 * left operand is slow when that operand is tall and the output narrow: the weight gradient F^T dY of a
 * 2406 x 4096 feature matrix against 64 columns took 23.9 ms, (dY^T F)^T 9.4 ms (the same product, the
 * transpose on the narrow side); 10240 x 320 against 64, 4.0 against 2.8 ms. At 1024 columns the swap
 * loses (105 against 177 ms for 1900 x 4096 against 1024), so wide outputs keep the stock product.
 */
export const MAX_SWAPPED_COLUMNS = 256;

/**
 * Smallest left operand (its element count) for which the swap pays: below it the transpose of the output
 * costs more than the swap saves. Medians of one op, stock against swapped: 64 x 1024 against 256 (the
 * teacher's second layer) 0.69 against 1.20 ms, 2048 x 64 against 64 0.42 against 0.62 ms, 256 x 1024
 * against 256 1.59 against 1.94; even at 384-512 x 1024 and 2048 x 128-320; the swap wins from 768 x 1024
 * (4.41 against 4.00) and 256 x 4096 (2.96 against 1.75).
 */
export const MIN_SWAPPED_LEFT_SIZE = 1 << 19;

/** Whether a^T b is computed as (b^T a)^T: b narrow, a wider than b and large. */
export function swapsTransposedProduct(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): boolean {
  const rank = aShape.length;
  const aColumns = aShape[rank - 1];
  const bColumns = bShape[rank - 1];
  return (
    transposeA &&
    !transposeB &&
    bShape.length === rank &&
    bColumns <= MAX_SWAPPED_COLUMNS &&
    aColumns > bColumns &&
    aShape.reduce((n, dim) => n * dim, 1) >= MIN_SWAPPED_LEFT_SIZE
  );
}

/**
 * BatchMatMul on the tensorflow backend: a^T b (tfjs's weight gradient of every product) as the transpose
 * of b^T a when b is narrow and a large; every other product is the stock kernel's.
 */
export function makeNativeBatchMatMul(stock: KernelFunc | undefined): KernelFunc {
  if (!stock) throw new Error('tensorflow BatchMatMul kernel missing');
  const transpose = tf.getKernel('Transpose', 'tensorflow')?.kernelFunc as unknown as KernelFunc | undefined;
  if (!transpose) throw new Error('tensorflow Transpose kernel missing');
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const rank = a.shape.length;
    const swap = swapsTransposedProduct(a.shape, b.shape, transposeA, transposeB);
    if (!swap) return stock(args);
    const swapped = stock({
      inputs: { a: b, b: a },
      backend,
      attrs: { ...attrs, transposeA: true, transposeB: false },
    });
    try {
      const perm = [...Array(rank).keys()];
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return transpose({ inputs: { x: swapped as tf.TensorInfo }, backend, attrs: { perm } });
    } finally {
      backend.disposeData((swapped as tf.TensorInfo).dataId);
    }
  };
}
