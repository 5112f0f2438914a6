import { csrTimesDense } from '../sparse/loops';
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
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] is not a prefix of x shape [${x.shape}]`,
    );
  }
  const ids = readInt32(backend, segmentIds);
  for (let i = 0; i < nIds; i++) {
    if (ids[i] >= numSegments)
      throw new Error(`UnsortedSegmentSum: segment id ${ids[i]} at ${i} is not below ${numSegments}`);
  }
  const rowShape = x.shape.slice(idRank);
  const dim = tf.util.sizeFromShape(rowShape);
  return computeOutput(backend, [x, segmentIds], [numSegments, ...rowShape], x.dtype, (out, [xs, seg]) =>
    sumRowsBySegment(xs, seg as Int32Array, dim, numSegments, out),
  );
};

/**
 * out[s] = sum of the rows i with seg[i] = s, as the product of a 0/1 CSR matrix with x: the rows are
 * ordered by segment (a stable counting sort, so each segment adds its rows in their original order) and
 * `csrTimesDense` keeps eight columns of a segment's sum in locals, about 1.6x faster in V8 than adding
 * every row into the output.
 */
export function sumRowsBySegment(
  xs: NumericArray,
  seg: Int32Array,
  dim: number,
  numSegments: number,
  out: NumericArray,
): void {
  const indptr = new Int32Array(numSegments + 1);
  for (let i = 0; i < seg.length; i++) if (seg[i] >= 0) indptr[seg[i] + 1]++;
  for (let s = 0; s < numSegments; s++) indptr[s + 1] += indptr[s];
  const next = indptr.slice(0, numSegments);
  const indices = new Int32Array(indptr[numSegments]);
  for (let i = 0; i < seg.length; i++) if (seg[i] >= 0) indices[next[seg[i]]++] = i;
  const ones = new Float32Array(indices.length).fill(1);
  csrTimesDense({ indptr, indices, values: ones, nRows: numSegments }, xs, dim, out);
}
