import { createRequire } from 'node:module';
import { tf } from '../tf';

// Direct calls into TensorFlow ops through tfjs-node's backend, for what tfjs has no kernel for (sparse
// products, segment max) or wraps slowly. Only valid while the `tensorflow` backend is active.

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

interface OutputMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

interface NodeBackend extends tf.KernelBackend {
  binding: {
    TF_ATTR_BOOL: number;
    TF_ATTR_INT: number;
    TF_INT64: number;
    createTensor(shape: number[], dtype: number, values: Int32Array): number;
    deleteTensor(id: number): void;
    executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): OutputMetadata[];
  };
  getInputTensorIds(tensors: tf.TensorInfo[]): number[];
  createOutputTensor(metadata: OutputMetadata): tf.Tensor;
}

/** An int64 vector input (tfjs has no int64 tensors; TensorFlow's sparse ops take their shape as one). */
export interface Int64Vector {
  int64: readonly number[];
}

interface NodeBackendModule {
  createTensorsTypeOpAttr(name: string, dtype: string): OpAttr;
}

const require = createRequire(import.meta.url);

export function isNativeBackend(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** An attribute of a TensorFlow op: a dtype (`type`), a bool or an int. */
export type NativeAttr = { type: string } | { bool: boolean } | { int: number };

/**
 * Runs one TensorFlow op on the active tensorflow backend; the result is a tfjs tensor of that backend.
 * Int64 inputs are made as TensorFlow tensors for the call and deleted after it, as tfjs-node does for its
 * int64 scalars.
 */
export function runNativeOp(opName: string, attrs: Record<string, NativeAttr>, inputs: Array<tf.TensorInfo | Int64Vector>, backend = tf.backend()): tf.Tensor {
  if (!('executeSingleOutput' in backend)) throw new Error(`native op ${opName} called on the '${tf.getBackend()}' backend`);
  const node = backend as unknown as NodeBackend;
  // The same module instance load-engine.ts registered the backend from (Node's require cache).
  const { createTensorsTypeOpAttr } = require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend') as NodeBackendModule;
  const opAttrs = Object.entries(attrs).map(([name, a]): OpAttr =>
    'type' in a
      ? createTensorsTypeOpAttr(name, a.type)
      : 'bool' in a
        ? { name, type: node.binding.TF_ATTR_BOOL, value: a.bool }
        : { name, type: node.binding.TF_ATTR_INT, value: a.int },
  );
  const temporary: number[] = [];
  try {
    const ids = inputs.map((input) => {
      if (!('int64' in input)) return node.getInputTensorIds([input])[0];
      // Little-endian (low, high) int32 pairs: the binding's int64 layout.
      const pairs = new Int32Array(2 * input.int64.length);
      input.int64.forEach((v, i) => (pairs[2 * i] = v));
      const id = node.binding.createTensor([input.int64.length], node.binding.TF_INT64, pairs);
      temporary.push(id);
      return id;
    });
    const [output] = node.binding.executeOp(opName, opAttrs, ids, 1);
    return node.createOutputTensor(output);
  } finally {
    for (const id of temporary) node.binding.deleteTensor(id);
  }
}

/**
 * op(A) x for a sparse A given as coordinates [nnz, 2] (int32, rows in order) and values [nnz], and a dense
 * x: TensorFlow's SparseTensorDenseMatMul, multi-threaded over output rows. `adjoint` multiplies by A^T
 * without building it.
 */
export function sparseDenseMatMul(coords: tf.Tensor2D, values: tf.Tensor1D, shape: readonly [number, number], x: tf.Tensor2D, adjoint: boolean): tf.Tensor2D {
  return runNativeOp(
    'SparseTensorDenseMatMul',
    { T: { type: 'float32' }, Tindices: { type: 'int32' }, adjoint_a: { bool: adjoint }, adjoint_b: { bool: false } },
    [coords, values, { int64: shape }, x],
  ) as tf.Tensor2D;
}

/** out[s] = max of x[i] over ids[i] = s (TensorFlow's UnsortedSegmentMax; empty segments get the lowest float). */
export function unsortedSegmentMax(x: tf.Tensor1D, ids: tf.Tensor1D, numSegments: number): tf.Tensor1D {
  return tf.tidy(
    () =>
      runNativeOp('UnsortedSegmentMax', { T: { type: 'float32' }, Tindices: { type: 'int32' }, Tnumsegments: { type: 'int32' } }, [
        x,
        ids,
        tf.scalar(numSegments, 'int32'),
      ]) as tf.Tensor1D,
  );
}
