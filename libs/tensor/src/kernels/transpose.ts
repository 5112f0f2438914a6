import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { computeOutput, type NumericArray } from './storage';

const BLOCK = 64;

/**
 * dst = src^T for `batch` row-major [rows, cols] matrices, in 64 x 64 blocks; each output row is written
 * in runs of 8 read from 8 source rows (2-3x faster in V8 than one element per iteration in source order).
 */
export function transposeBatched(
  src: NumericArray,
  dst: NumericArray,
  batch: number,
  rows: number,
  cols: number,
): void {
  const size = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let i0 = 0; i0 < rows; i0 += BLOCK) {
      const i1 = Math.min(i0 + BLOCK, rows);
      for (let j0 = 0; j0 < cols; j0 += BLOCK) {
        const j1 = Math.min(j0 + BLOCK, cols);
        for (let j = j0; j < j1; j++) {
          const o = base + j * rows;
          let i = i0;
          for (; i + 8 <= i1; i += 8) {
            const at = base + i * cols + j;
            dst[o + i] = src[at];
            dst[o + i + 1] = src[at + cols];
            dst[o + i + 2] = src[at + 2 * cols];
            dst[o + i + 3] = src[at + 3 * cols];
            dst[o + i + 4] = src[at + 4 * cols];
            dst[o + i + 5] = src[at + 5 * cols];
            dst[o + i + 6] = src[at + 6 * cols];
            dst[o + i + 7] = src[at + 7 * cols];
          }
          for (; i < i1; i++) dst[o + i] = src[base + i * cols + j];
        }
      }
    }
  }
}

/** A new tensor holding `info` with its last two axes swapped (JS, about 1.8x the stock wasm kernel). */
export function swapLastTwoAxes(backend: tf.KernelBackend, info: tf.TensorInfo): tf.TensorInfo {
  const shape = info.shape;
  const rank = shape.length;
  const rows = shape[rank - 2];
  const cols = shape[rank - 1];
  const batch = tf.util.sizeFromShape(shape.slice(0, -2));
  const outShape = [...shape.slice(0, -2), cols, rows];
  return computeOutput(backend, [info], outShape, info.dtype, (out, [src]) =>
    transposeBatched(src, out, batch, rows, cols),
  );
}

/**
 * Transpose that shares the data for the identity permutation (as reshape does) instead of copying it:
 * the gradient of an axis-0 gather transposes twice by the identity, copying the whole embedding table.
 */
export function makeTranspose(stock: KernelFunc | undefined): KernelFunc {
  if (!stock) throw new Error('Transpose kernel missing');
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x'];
    const perm = (attrs as { perm: number[] }).perm;
    if (perm.every((p, i) => p === i)) {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }
    const rank = perm.length;
    const swapsLastTwo =
      rank >= 2 &&
      perm[rank - 2] === rank - 1 &&
      perm[rank - 1] === rank - 2 &&
      perm.slice(0, -2).every((p, i) => p === i);
    if (swapsLastTwo && x.dtype !== 'string' && x.dtype !== 'complex64') return swapLastTwoAxes(backend, x);
    return stock(args);
  };
}
