import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { computeOutput, readInt32 } from './storage';

/**
 * UnsortedSegmentSum in one pass over the rows, O(rows x dim): out[ids[i]] += x[i]. Negative ids drop
 * their row (as TensorFlow); ids >= numSegments are an error. This is the gradient of gather, so every
 * embedding update goes through it. (The stock cpu kernel loops over segments x rows; wasm has none.)
 */
export const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }: KernelArgs) => {
  const x = inputs['x'];
  const segmentIds = inputs['segmentIds'];
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const nIds = tf.util.sizeFromShape(segmentIds.shape);
  const idRank = segmentIds.shape.length;
  if (!segmentIds.shape.every((d, i) => d === x.shape[i])) {
    throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] is not a prefix of x shape [${x.shape}]`);
  }
  const ids = readInt32(backend, segmentIds);
  for (let i = 0; i < nIds; i++) {
    if (ids[i] >= numSegments) throw new Error(`UnsortedSegmentSum: segment id ${ids[i]} at ${i} is not below ${numSegments}`);
  }
  const rowShape = x.shape.slice(idRank);
  const dim = tf.util.sizeFromShape(rowShape);
  return computeOutput(backend, [x, segmentIds], [numSegments, ...rowShape], x.dtype, (out, [xs, seg]) => {
    out.fill(0);
    for (let i = 0; i < nIds; i++) {
      const s = seg[i];
      if (s < 0) continue;
      const src = i * dim;
      const dst = s * dim;
      for (let j = 0; j < dim; j++) out[dst + j] += xs[src + j];
    }
  });
};
