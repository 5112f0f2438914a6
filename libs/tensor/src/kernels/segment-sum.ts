import { tf } from '../tf';
import type { KernelArgs, KernelFunc } from './registry';
import { computeOutput, readInt32, type NumericArray } from './storage';

/**
 * UnsortedSegmentSum in O(rows x dim): out[ids[i]] += x[i] (see `sumRowsBySegment`). Negative ids drop
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
  return computeOutput(backend, [x, segmentIds], [numSegments, ...rowShape], x.dtype, (out, [xs, seg]) => sumRowsBySegment(xs, seg as Int32Array, dim, numSegments, out));
};

/**
 * out[s] = sum of the rows i with seg[i] = s: the rows are ordered by segment (a stable counting sort, so
 * each segment adds its rows in their original order) and each segment's sum is kept eight columns at a
 * time in local accumulators, about 1.6x faster in V8 than adding every row into the output.
 */
export function sumRowsBySegment(xs: NumericArray, seg: Int32Array, dim: number, numSegments: number, out: NumericArray): void {
  const start = new Int32Array(numSegments + 1);
  for (let i = 0; i < seg.length; i++) if (seg[i] >= 0) start[seg[i] + 1]++;
  for (let s = 0; s < numSegments; s++) start[s + 1] += start[s];
  const next = start.slice(0, numSegments);
  const order = new Int32Array(start[numSegments]);
  for (let i = 0; i < seg.length; i++) if (seg[i] >= 0) order[next[seg[i]]++] = i;
  for (let s = 0; s < numSegments; s++) {
    const p0 = start[s];
    const p1 = start[s + 1];
    const o = s * dim;
    let j = 0;
    for (; j + 8 <= dim; j += 8) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
      for (let p = p0; p < p1; p++) {
        const at = order[p] * dim + j;
        s0 += xs[at];
        s1 += xs[at + 1];
        s2 += xs[at + 2];
        s3 += xs[at + 3];
        s4 += xs[at + 4];
        s5 += xs[at + 5];
        s6 += xs[at + 6];
        s7 += xs[at + 7];
      }
      out[o + j] = s0;
      out[o + j + 1] = s1;
      out[o + j + 2] = s2;
      out[o + j + 3] = s3;
      out[o + j + 4] = s4;
      out[o + j + 5] = s5;
      out[o + j + 6] = s6;
      out[o + j + 7] = s7;
    }
    for (; j < dim; j++) {
      let sum = 0;
      for (let p = p0; p < p1; p++) sum += xs[order[p] * dim + j];
      out[o + j] = sum;
    }
  }
}
