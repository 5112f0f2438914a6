import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { computeOutput } from './storage';

/**
 * wasm Identity, and Cast to the dtype a tensor already has, sharing the data (as the cpu and webgl
 * backends do) instead of copying it. Tensor data is never written in place, so sharing is safe; the
 * engine clones every tensor it saves for a gradient, which on wasm copied the gathered 4096-d feature rows
 * and each [pairs x hidden] activation of a step.
 */
export function makeSharingIdentity(): KernelFunc {
  return (args: KernelArgs) => sharedInput(args);
}

/** The kernel's input `x` as the output: one more reference to its data, no copy. */
function sharedInput({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs['x'];
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** A kernel that shares x's data when `unchanged(args)` says the output would equal x, else runs `stock`. */
function sharingWhen(
  name: string,
  stock: KernelFunc | undefined,
  unchanged: (args: KernelArgs) => boolean,
): KernelFunc {
  if (!stock) throw new Error(`${name} kernel missing`);
  return (args: KernelArgs) => (unchanged(args) ? sharedInput(args) : stock(args));
}

/**
 * Cast to the dtype a tensor already has as a shared reference; other casts are the stock kernel's. On the
 * native engine tfjs's gradients cast float32 to float32 tens of times a step (Div's, Maximum's), each a
 * TensorFlow op dispatched for nothing (12 us against 1 us for a shared reference, measured).
 */
export function makeSameDtypeSharingCast(stock: KernelFunc | undefined): KernelFunc {
  return sharingWhen('Cast', stock, ({ inputs, attrs }) => {
    const x = inputs['x'];
    return (attrs as { dtype: string }).dtype === x.dtype && x.dtype !== 'string';
  });
}

/**
 * Reshape to the shape a tensor already has as a shared reference; other reshapes are the stock kernel's. On
 * the native engine tfjs's gradients reshape most gradients to their own shape (Add's, Mul's), each a shape
 * tensor uploaded and a TensorFlow op dispatched for nothing (about 35 us, against 1 us shared). Only the
 * same shape can be shared there: TensorFlow's tensor handle carries its own shape.
 */
export function makeSameShapeSharingReshape(stock: KernelFunc | undefined): KernelFunc {
  return sharingWhen('Reshape', stock, ({ inputs, attrs }) => {
    const x = inputs['x'];
    const shape = [...(attrs as { shape: number[] }).shape];
    return tf.util.arraysEqual(tf.util.inferFromImplicitShape(shape, tf.util.sizeFromShape(x.shape)), x.shape);
  });
}

/**
 * Transpose by the identity permutation as a shared reference; other transposes are the stock kernel's.
 * tfjs's gather gradient transposes its values and its result by the identity for axis 0 (twice per
 * gathered embedding table a step), each a full copy on TensorFlow.
 */
export function makeIdentitySharingTranspose(stock: KernelFunc | undefined): KernelFunc {
  return sharingWhen('Transpose', stock, ({ attrs }) =>
    (attrs as { perm: number[] }).perm.every((axis, i) => axis === i),
  );
}

/** Also casts to bool as x != 0: the stock wasm kernel truncates (int32 -2 became 254). */
export function makeSharingCast(stock: KernelFunc | undefined): KernelFunc {
  const sameDtype = makeSameDtypeSharingCast(stock);
  return (args: KernelArgs) => {
    const x = args.inputs['x'];
    const dtype = (args.attrs as { dtype: string }).dtype;
    if (dtype === 'bool' && (x.dtype === 'int32' || x.dtype === 'float32')) {
      return computeOutput(args.backend, [x], [...x.shape], 'bool', (out, [values]) => {
        for (let i = 0; i < values.length; i++) out[i] = values[i] !== 0 ? 1 : 0;
      });
    }
    return sameDtype(args);
  };
}
