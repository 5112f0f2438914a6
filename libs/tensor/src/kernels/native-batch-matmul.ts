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
 * BatchMatMul on the tensorflow backend: a^T b (tfjs's weight gradient of every product) as the transpose
 * of b^T a when b is narrow; every other product is the stock kernel's.
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
    const aColumns = a.shape[rank - 1];
    const bColumns = b.shape[rank - 1];
    const swap =
      transposeA && !transposeB && b.shape.length === rank && bColumns <= MAX_SWAPPED_COLUMNS && aColumns > bColumns;
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
