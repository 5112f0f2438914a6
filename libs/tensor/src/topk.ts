export interface TopK {
  /** Row-major [nRows, k] item indices, best first. */
  indices: Int32Array;
  /** The scores of those items, same layout. */
  values: Float32Array;
  /** Entries per row: min(requested k, nCols). */
  k: number;
}

/**
 * Top-k of every row of a row-major [nRows, nCols] score matrix, best first, by partial selection: one
 * pass per row keeping a size-k min-heap whose root is the current worst kept entry, O(nCols + m log k)
 * for m replacements, then a heap sort of the k survivors.
 *
 * Ties go to the lower column index (deterministic, as a stable descending sort). NaN ranks as -Infinity.
 */
export function topK(scores: Float32Array, nRows: number, nCols: number, k: number): TopK {
  if (!Number.isInteger(nRows) || !Number.isInteger(nCols) || nRows < 0 || nCols < 0) {
    throw new RangeError(`topK: bad shape [${nRows}, ${nCols}]`);
  }
  if (scores.length !== nRows * nCols) {
    throw new RangeError(`topK: ${scores.length} scores do not fill [${nRows}, ${nCols}]`);
  }
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topK: k must be a positive integer, got ${k}`);
  const kk = Math.min(k, nCols);
  const indices = new Int32Array(nRows * kk);
  const values = new Float32Array(nRows * kk);
  if (kk === 0) return { indices, values, k: kk };
  const heapValue = new Float64Array(kk);
  const heapIndex = new Int32Array(kk);

  // heap[a] is worse than heap[b]: lower score, or equal score and higher index.
  const worse = (a: number, b: number): boolean =>
    heapValue[a] < heapValue[b] || (heapValue[a] === heapValue[b] && heapIndex[a] > heapIndex[b]);
  const siftDown = (start: number, size: number): void => {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && worse(right, left) ? right : left;
      if (!worse(child, i)) return;
      const v = heapValue[i];
      const x = heapIndex[i];
      heapValue[i] = heapValue[child];
      heapIndex[i] = heapIndex[child];
      heapValue[child] = v;
      heapIndex[child] = x;
      i = child;
    }
  };

  for (let row = 0; row < nRows; row++) {
    const base = row * nCols;
    for (let j = 0; j < kk; j++) {
      const v = scores[base + j];
      heapValue[j] = v === v ? v : -Infinity;
      heapIndex[j] = j;
    }
    for (let i = (kk >> 1) - 1; i >= 0; i--) siftDown(i, kk);
    let threshold = heapValue[0];
    // Columns arrive in increasing index order, so an equal score never beats the root (lower index).
    for (let j = kk; j < nCols; j++) {
      const v = scores[base + j];
      if (v > threshold) {
        heapValue[0] = v;
        heapIndex[0] = j;
        siftDown(0, kk);
        threshold = heapValue[0];
      }
    }
    // Heap sort: repeatedly move the worst to the end, giving best-first order.
    const out = row * kk;
    for (let size = kk; size > 0; size--) {
      const item = heapIndex[0];
      indices[out + size - 1] = item;
      values[out + size - 1] = scores[base + item];
      heapValue[0] = heapValue[size - 1];
      heapIndex[0] = heapIndex[size - 1];
      siftDown(0, size - 1);
    }
  }
  return { indices, values, k: kk };
}
