import { csrTimesDense } from '../sparse/loops';
import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { computeOutput, type NumericArray } from './storage';

/**
 * wasm Sum over the leading axes (the bias gradient of a dense layer sums over its rows) in one pass that
 * keeps eight column sums in locals, where the stock kernel first transposes the reduced axes to the end
 * (figures: README, kernels bench). Other reductions go to the stock kernel (over a middle axis it is faster
 * than this loop). Measured and rejected: ones[1, rows] x X, fast when X is reused but slow for a fresh X,
 * which XNNPACK repacks as its right operand.
 */
export function makeWasmSum(stock: KernelFunc | undefined): KernelFunc {
  if (!stock) throw new Error('wasm Sum kernel missing');
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x'];
    const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
    const shape = x.shape;
    const axes = tf.util.parseAxisParam(axis, shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return stock(args);
    const rows = tf.util.sizeFromShape(shape.slice(0, axes.length));
    const rest = tf.util.sizeFromShape(shape.slice(axes.length));
    const outShape = keepDims ? shape.map((n, i) => (i < axes.length ? 1 : n)) : shape.slice(axes.length);
    return computeOutput(backend, [x], outShape, 'float32', (out, [values]) => sumRows(values, rows, rest, out));
  };
}

/** out[j] = sum over r of values[r * width + j]: a one-row CSR product, eight columns at a time in locals. */
export function sumRows(values: NumericArray, rows: number, width: number, out: NumericArray): void {
  const indices = Int32Array.from({ length: rows }, (_, r) => r);
  csrTimesDense(
    { indptr: Int32Array.of(0, rows), indices, values: new Float32Array(rows).fill(1), nRows: 1 },
    values,
    width,
    out,
  );
}
