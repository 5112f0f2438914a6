import { tf } from '../tf';

type TensorInfo = tf.TensorInfo;
type DataType = tf.DataType;
export type NumericArray = Float32Array | Int32Array | Uint8Array;

// The two backends keep tensor data differently: cpu in JS typed arrays, wasm in its heap. These are the
// members of their (untyped in the public API) classes that custom kernels need.
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): NumericArray;
}
interface CpuBackendLike {
  data: { get(dataId: object): { values: NumericArray } };
  makeTensorInfo(shape: number[], dtype: DataType, values: NumericArray): TensorInfo;
}

function isWasm(backend: unknown): backend is WasmBackendLike {
  return typeof (backend as WasmBackendLike).typedArrayFromHeap === 'function';
}

/**
 * Allocates an output and runs `fill` on views of it and of the inputs. On wasm the views alias the heap,
 * so they are taken after the allocation (which can grow, and so detach, the heap) and `fill` must not
 * allocate tensors. The wasm output is not zeroed.
 */
export function computeOutput(
  backend: tf.KernelBackend,
  inputs: readonly TensorInfo[],
  shape: number[],
  dtype: DataType,
  fill: (out: NumericArray, inputs: NumericArray[]) => void,
): TensorInfo {
  if (isWasm(backend)) {
    const out = backend.makeOutput(shape, dtype);
    fill(
      backend.typedArrayFromHeap(out),
      inputs.map((t) => backend.typedArrayFromHeap(t)),
    );
    return out;
  }
  const cpu = backend as unknown as CpuBackendLike;
  const values = tf.util.getTypedArrayFromDType(dtype as 'float32', tf.util.sizeFromShape(shape)) as NumericArray;
  fill(
    values,
    inputs.map((t) => cpu.data.get(t.dataId).values),
  );
  return cpu.makeTensorInfo(shape, dtype, values);
}

/** Values of an int32 input, without the copy `readSync` makes on wasm. */
export function readInt32(backend: tf.KernelBackend, info: TensorInfo): Int32Array {
  if (isWasm(backend)) return backend.typedArrayFromHeap(info) as Int32Array;
  return (backend as unknown as CpuBackendLike).data.get(info.dataId).values as Int32Array;
}
