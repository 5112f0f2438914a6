import { runNativeOp } from '../native/native-ops';
import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';

/**
 * GatherV2 on the tensorflow backend without tfjs-node's check of every index in JavaScript: it reads the
 * indices back from TensorFlow and runs a closure per index (README, kernels bench: the gain of skipping it).
 * TensorFlow's CPU kernel rejects an out-of-range index itself ("indices[i] = v is not in [0, n)").
 */
export const nativeGatherV2: KernelFunc = ({ inputs, backend, attrs }: KernelArgs) => {
  const x = inputs['x'];
  const indices = inputs['indices'];
  const { axis, batchDims } = attrs as { axis: number; batchDims: number };
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, parsedAxis, batchDims);
  const axisTensor = tf.scalar(parsedAxis, 'int32');
  try {
    return runNativeOp(
      'GatherV2',
      {
        batch_dims: { int: batchDims },
        Tparams: { type: x.dtype },
        Tindices: { type: indices.dtype },
        Taxis: { type: 'int32' },
      },
      [x, indices, axisTensor],
      backend,
    );
  } finally {
    axisTensor.dispose();
  }
};
