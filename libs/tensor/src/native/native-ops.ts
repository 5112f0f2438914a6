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
    TF_ATTR_FLOAT: number;
    TF_ATTR_INT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_SHAPE: number;
    TF_INT64: number;
    TF_INT32: number;
    TF_FLOAT: number;
    createTensor(shape: number[], dtype: number, values: Int32Array | Float32Array): number;
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
let typeAttr: NodeBackendModule['createTensorsTypeOpAttr'] | undefined;

export function isNativeBackend(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/** An attribute of a TensorFlow op: a dtype (`type`), a bool, an int, a float, a string or a shape. */
export type NativeAttr =
  | { type: string }
  | { bool: boolean }
  | { int: number }
  | { float: number }
  | { string: string }
  | { shape: readonly number[] };

/** A TensorFlow tensor that the binding owns and tfjs does not track (see resident-arrays.ts). */
export interface ResidentTensor {
  tensorId: number;
}

/**
 * A TensorFlow op input: a tfjs tensor of the tensorflow backend, an int64 vector made for the call, or a
 * resident tensor.
 */
export type NativeInput = tf.TensorInfo | Int64Vector | ResidentTensor;

/**
 * Runs one TensorFlow op on the active tensorflow backend; the result is a tfjs tensor of that backend.
 * Int64 inputs are made as TensorFlow tensors for the call and deleted after it, as tfjs-node does for its
 * int64 scalars.
 */
export function runNativeOp(
  opName: string,
  attrs: Record<string, NativeAttr>,
  inputs: NativeInput[],
  backend = tf.backend(),
): tf.Tensor {
  return execute(opName, attrs, inputs, 1, backend)[0];
}

/** Runs one TensorFlow op with `numOutputs` outputs on the active tensorflow backend. */
export function runNativeOpOutputs(
  opName: string,
  attrs: Record<string, NativeAttr>,
  inputs: NativeInput[],
  numOutputs: number,
): tf.Tensor[] {
  return execute(opName, attrs, inputs, numOutputs, tf.backend());
}

/** Runs a TensorFlow op that has no outputs (a variable assignment or an optimiser update). */
export function runNativeOpForEffect(opName: string, attrs: Record<string, NativeAttr>, inputs: NativeInput[]): void {
  execute(opName, attrs, inputs, 0, tf.backend());
}

function execute(
  opName: string,
  attrs: Record<string, NativeAttr>,
  inputs: NativeInput[],
  numOutputs: number,
  backend: tf.KernelBackend,
): tf.Tensor[] {
  if (!('executeSingleOutput' in backend))
    throw new Error(`native op ${opName} called on the '${tf.getBackend()}' backend`);
  const node = backend as unknown as NodeBackend;
  // The same module instance load-engine.ts registered the backend from (Node's require cache), looked
  // up once: this runs for every native op.
  typeAttr ??= (require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend') as NodeBackendModule)
    .createTensorsTypeOpAttr;
  const createTensorsTypeOpAttr = typeAttr;
  const { binding } = node;
  const opAttrs = Object.entries(attrs).map(([name, a]): OpAttr => {
    if ('type' in a) return createTensorsTypeOpAttr(name, a.type);
    if ('bool' in a) return { name, type: binding.TF_ATTR_BOOL, value: a.bool };
    if ('int' in a) return { name, type: binding.TF_ATTR_INT, value: a.int };
    if ('float' in a) return { name, type: binding.TF_ATTR_FLOAT, value: a.float };
    if ('string' in a) return { name, type: binding.TF_ATTR_STRING, value: a.string };
    return { name, type: binding.TF_ATTR_SHAPE, value: a.shape };
  });
  const temporary: number[] = [];
  try {
    const ids = inputs.map((input) => {
      if ('tensorId' in input) return input.tensorId;
      if (!('int64' in input)) return node.getInputTensorIds([input])[0];
      // Little-endian (low, high) int32 pairs: the binding's int64 layout.
      const pairs = new Int32Array(2 * input.int64.length);
      input.int64.forEach((v, i) => (pairs[2 * i] = v));
      const id = binding.createTensor([input.int64.length], binding.TF_INT64, pairs);
      temporary.push(id);
      return id;
    });
    return binding.executeOp(opName, opAttrs, ids, numOutputs).map((output) => node.createOutputTensor(output));
  } finally {
    for (const id of temporary) binding.deleteTensor(id);
  }
}

/** The tfjs-node binding of the active tensorflow backend. */
export function nativeBinding(): NodeBackend['binding'] {
  const backend = tf.backend();
  if (!('executeSingleOutput' in backend)) throw new Error(`no native binding on the '${tf.getBackend()}' backend`);
  return (backend as unknown as NodeBackend).binding;
}

/** (row, col) pairs, row-major [nnz, 2], as TensorFlow's sparse ops take a sparse operand's coordinates. */
export function coordinatePairs(rows: ArrayLike<number>, cols: ArrayLike<number>): Int32Array {
  const pairs = new Int32Array(2 * cols.length);
  for (let p = 0; p < cols.length; p++) {
    pairs[2 * p] = rows[p];
    pairs[2 * p + 1] = cols[p];
  }
  return pairs;
}

/**
 * op(A) x for a sparse A given as coordinates [nnz, 2] (int32, rows in order) and values [nnz], and a dense
 * x: TensorFlow's SparseTensorDenseMatMul, multi-threaded over output rows. `adjoint` multiplies by A^T
 * without building it.
 */
export function sparseDenseMatMul(
  coords: tf.Tensor2D,
  values: tf.Tensor1D,
  shape: readonly [number, number],
  x: tf.Tensor2D,
  adjoint: boolean,
): tf.Tensor2D {
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
      runNativeOp(
        'UnsortedSegmentMax',
        { T: { type: 'float32' }, Tindices: { type: 'int32' }, Tnumsegments: { type: 'int32' } },
        [x, ids, tf.scalar(numSegments, 'int32')],
      ) as tf.Tensor1D,
  );
}

/**
 * U[0, 1) float32 values of `shape` from TensorFlow's StatelessRandomUniform: counter-based (Philox), so the
 * same (seed, stream) gives the same values whatever the thread count, and no JavaScript loop draws them.
 */
export function statelessRandomUniform(shape: readonly number[], seed: number, stream: number): tf.Tensor {
  return tf.tidy(() =>
    runNativeOp(
      'StatelessRandomUniform',
      { dtype: { type: 'float32' }, T: { type: 'int32' }, Tseed: { type: 'int32' } },
      [tf.tensor1d([...shape], 'int32'), tf.tensor1d([seed | 0, stream | 0], 'int32')],
    ),
  );
}

/**
 * Per-row cross-entropy of `logits` [B, C] against int32 `labels` [B], differentiable, from TensorFlow's
 * SparseSoftmaxCrossEntropyWithLogits: one op gives the losses and their gradient (softmax - onehot), which
 * the backward pass scales by dy, where tfjs's log-softmax, one-hot, product and sum take about twenty small
 * ops forward and backward. TensorFlow rejects a label outside [0, C).
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D;
    const [loss, backprop] = runNativeOpOutputs(
      'SparseSoftmaxCrossEntropyWithLogits',
      { T: { type: 'float32' }, Tlabels: { type: labels.dtype } },
      [x, labels],
      2,
    );
    (args[1] as tf.GradSaveFunc)([backprop]);
    return {
      value: loss as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.expandDims(dy, 1), saved[0]),
    };
  });
  return op(logits) as tf.Tensor1D;
}

/**
 * sum(x^2) as a scalar, differentiable, from TensorFlow's L2Loss (sum(x^2) / 2 in one op): two ops forward
 * and two back, where tfjs's square, sum and their gradients take six (a broadcast of dy among them).
 */
export function sumOfSquaresNative(x: tf.Tensor): tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    return {
      value: tf.tidy(() => tf.mul(runNativeOp('L2Loss', { T: { type: 'float32' } }, [input]), 2)) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => tf.mul(saved[0], tf.mul(dy, 2))),
    };
  });
  return op(x) as tf.Scalar;
}
