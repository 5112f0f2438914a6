import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { computeOutput, readInt32 } from './storage';

/**
 * GatherV2 along axis 0 (embedding lookup) as row copies; other axes and batchDims go to the stock kernel.
 * On wasm both tensors live in the heap, so a row is one copyWithin (a memmove); the stock kernel walks
 * element by element through strides.
 */
export function makeGatherV2(stock: KernelFunc | undefined): KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x'];
    const indices = inputs['indices'];
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    const fast = parsedAxis === 0 && (batchDims ?? 0) === 0 && x.dtype !== 'string' && x.dtype !== 'complex64';
    if (!fast) {
      if (!stock) throw new Error(`GatherV2: no stock kernel for axis ${axis}, batchDims ${batchDims}`);
      return stock(args);
    }
    const nRows = x.shape[0];
    const nIndices = tf.util.sizeFromShape(indices.shape);
    const idx = readInt32(backend, indices);
    for (let i = 0; i < nIndices; i++) {
      if (!(idx[i] >= 0 && idx[i] < nRows))
        throw new Error(`GatherV2: the index value ${idx[i]} is not in [0, ${nRows - 1}]`);
    }
    const rowShape = x.shape.slice(1);
    const dim = tf.util.sizeFromShape(rowShape);
    return computeOutput(backend, [x, indices], [...indices.shape, ...rowShape], x.dtype, (out, [xs, ids]) => {
      if (out.buffer === xs.buffer && dim >= 16) {
        // Same heap: copy rows with memmove, addressed in elements from the start of the buffer.
        const heap = new (out.constructor as new (buffer: ArrayBufferLike) => typeof out)(out.buffer);
        const outBase = out.byteOffset / out.BYTES_PER_ELEMENT;
        const xBase = xs.byteOffset / xs.BYTES_PER_ELEMENT;
        for (let i = 0; i < nIndices; i++) {
          const src = xBase + ids[i] * dim;
          heap.copyWithin(outBase + i * dim, src, src + dim);
        }
        return;
      }
      if (dim >= 256) {
        for (let i = 0; i < nIndices; i++) out.set(xs.subarray(ids[i] * dim, (ids[i] + 1) * dim), i * dim);
        return;
      }
      for (let i = 0; i < nIndices; i++) {
        const src = ids[i] * dim;
        const dst = i * dim;
        for (let j = 0; j < dim; j++) out[dst + j] = xs[src + j];
      }
    });
  };
}
