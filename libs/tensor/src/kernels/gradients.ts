import { isNativeBackend } from '../native/native-ops';
import { tf } from '../tf';

/** dy of a reduction over `axes` of `x`, reshaped to keep those axes at size 1. */
function keptDims(dy: tf.Tensor, x: tf.Tensor, axis: unknown): { expanded: tf.Tensor; count: number } {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const shape = x.shape.slice();
  let count = 1;
  for (const a of axes) {
    count *= shape[a];
    shape[a] = 1;
  }
  return { expanded: tf.reshape(dy, shape), count };
}

/**
 * dy broadcast to `shape`: on the native engine one BroadcastTo op; tfjs's gradients multiply dy by a ones
 * tensor as large as the input, filled in JavaScript and uploaded on every call (7 % of a native VBPR epoch,
 * measured with --cpu-prof; the epoch went 0.88 -> 0.69 s). Elsewhere the stock product: tfjs runs a
 * broadcast as its generic Tile kernel, which made a wasm VBPR epoch 2x slower.
 */
function broadcastGradient(expanded: tf.Tensor, shape: number[]): tf.Tensor {
  return isNativeBackend() ? tf.broadcastTo(expanded, shape) : tf.mul(expanded, tf.ones(shape, 'float32'));
}

/** The gradients of Sum and Mean through `broadcastGradient`. */
const reductionGradients: tf.GradConfig[] = [
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return { x: () => broadcastGradient(keptDims(dy as tf.Tensor, x, attrs['axis']).expanded, x.shape) };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return {
        x: () => {
          const { expanded, count } = keptDims(dy as tf.Tensor, x, attrs['axis']);
          return broadcastGradient(tf.div(expanded, count), x.shape);
        },
      };
    },
  },
];

const stockGradients = new Map<string, tf.GradConfig>();
let registered = false;

/** Replaces tfjs's gradients of Sum and Mean (registered once for every backend; they choose per call). */
export function registerGradientOverrides(): void {
  if (registered) return;
  for (const config of reductionGradients) {
    if (!stockGradients.has(config.kernelName))
      stockGradients.set(config.kernelName, tf.getGradient(config.kernelName));
    tf.registerGradient(config);
  }
  registered = true;
}

/** Puts tfjs's own gradients back (benchmarks compare the two in one process). */
export function restoreStockGradients(): void {
  for (const stock of stockGradients.values()) tf.registerGradient(stock);
  registered = false;
}
