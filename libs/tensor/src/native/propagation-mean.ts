import type { SparseMatrix } from '../sparse/sparse-matrix';
import { tf } from '../tf';
import { requireCustomOps } from './custom-ops';
import { runNativeOpOutputs } from './native-ops';
import { residentArray } from './resident-arrays';

const KERNEL = 'SgfdPropagationMean';

interface PropagationAttrs {
  /** The square matrix A, with values. */
  matrix: SparseMatrix;
  layers: number;
  [key: string]: unknown;
}

/** (x + A x + ... + A^L x) / (L + 1) with x given and returned as two row blocks: the custom op on A's resident arrays. */
function runPropagation(matrix: SparseMatrix, layers: number, top: tf.TensorInfo, bottom: tf.TensorInfo): tf.Tensor[] {
  const arrays = [matrix.indptr, matrix.indices, matrix.requireValues('propagationMean')].map(residentArray);
  return runNativeOpOutputs(KERNEL, { layers: { int: layers } }, [...arrays, top, bottom], 2);
}

let registered = false;

/**
 * A tfjs kernel (not tf.customGrad, which allows one output) so that the op returns its two row blocks and
 * takes both gradients: (I + A^T + ... + (A^T)^L) dy / (L + 1) is the same op on the transpose.
 */
function registerPropagationKernel(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, attrs }) => {
      const { matrix, layers } = attrs as unknown as PropagationAttrs;
      return runPropagation(matrix, layers, inputs['top'] as tf.TensorInfo, inputs['bottom'] as tf.TensorInfo);
    },
  });
  tf.registerGradient({
    kernelName: KERNEL,
    gradFunc: (dy, _saved, attrs) => {
      const { matrix, layers } = attrs as unknown as PropagationAttrs;
      const [dTop, dBottom] = dy as tf.Tensor[];
      // Both blocks in one call, here rather than in the thunks: tfjs runs each thunk in its own tidy, which
      // would dispose the block the other thunk returns. Unused, they go with the gradient's own scope.
      const [top, bottom] = runPropagation(matrix.transpose(), layers, dTop, dBottom);
      return { top: () => top, bottom: () => bottom };
    },
  });
}

/**
 * LightGCN's layer mean of x = [top; bottom] over the square matrix A (with values), as the two row blocks:
 * SgfdPropagationMean, where the stock path concatenates, runs L sparse products, sums, scales and splits,
 * forward and backward. Needs the native engine's custom ops.
 */
export function propagationMeanOfBlocks(
  matrix: SparseMatrix,
  top: tf.Tensor2D,
  bottom: tf.Tensor2D,
  layers: number,
): { top: tf.Tensor2D; bottom: tf.Tensor2D } {
  requireCustomOps(KERNEL);
  registerPropagationKernel();
  const attrs: PropagationAttrs = { matrix, layers };
  const [t, b] = tf.engine().runKernel(KERNEL, { top, bottom }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D[];
  return { top: t, bottom: b };
}
