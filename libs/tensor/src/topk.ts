export interface TopK {
  /** Row-major [nRows, k] item indices, best first. */
  indices: Int32Array;
  /** The scores of those items, same layout. */
  values: Float32Array;
  /** Entries per row: min(requested k, nCols). */
  k: number;
}

/**
 * Restores the min-heap below `start` (root = worst entry: lowest score, then highest index) by moving
 * a hole down instead of swapping; top-level functions here so V8 inlines them (closures measured 1.6x
 * slower).
 */
function siftDown(heapValue: Float64Array, heapIndex: Int32Array, start: number, size: number): void {
  let i = start;
  const value = heapValue[i];
  const index = heapIndex[i];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    let childValue = heapValue[child];
    let childIndex = heapIndex[child];
    const right = child + 1;
    if (right < size) {
      const rightValue = heapValue[right];
      const rightIndex = heapIndex[right];
      if (rightValue < childValue || (rightValue === childValue && rightIndex > childIndex)) {
        child = right;
        childValue = rightValue;
        childIndex = rightIndex;
      }
    }
    if (!(childValue < value || (childValue === value && childIndex > index))) break;
    heapValue[i] = childValue;
    heapIndex[i] = childIndex;
    i = child;
  }
  heapValue[i] = value;
  heapIndex[i] = index;
}

/** Better = higher score, or equal score and lower index. */
function better(av: number, ai: number, bv: number, bi: number): boolean {
  return av > bv || (av === bv && ai < bi);
}

/** Reorders buffer[0, n) so that its `m` best entries come first (Hoare quickselect). */
function selectBest(value: Float64Array, index: Int32Array, n: number, m: number): void {
  let lo = 0;
  let hi = n - 1;
  const target = m - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const pivotValue = value[mid];
    const pivotIndex = index[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (better(value[i], index[i], pivotValue, pivotIndex)) i++;
      while (better(pivotValue, pivotIndex, value[j], index[j])) j--;
      if (i <= j) {
        const v = value[i];
        value[i] = value[j];
        value[j] = v;
        const x = index[i];
        index[i] = index[j];
        index[j] = x;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/**
 * Top-k of every row of a row-major [nRows, nCols] score matrix, best first, by partial selection.
 * Each row streams into a buffer of 4k candidates; a full buffer is cut back to its k best
 * (quickselect) and their worst score becomes the bar later columns must beat, so most columns cost
 * one comparison. The k survivors are then heap-sorted. O(nCols + k log k) per row in practice; 5-25%
 * faster than a size-k heap updated on every improvement (4,874 x 2,406, k = 50, on a loaded machine).
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
  const capacity = 4 * kk;
  const bufferValue = new Float64Array(capacity);
  const bufferIndex = new Int32Array(capacity);

  for (let row = 0; row < nRows; row++) {
    const base = row * nCols;
    let n = 0;
    let j = 0;
    for (const end = Math.min(capacity, nCols); j < end; j++) {
      const v = scores[base + j];
      bufferValue[n] = v === v ? v : -Infinity;
      bufferIndex[n++] = j;
    }
    while (n === capacity) {
      selectBest(bufferValue, bufferIndex, n, kk);
      n = kk;
      let bar = bufferValue[0];
      for (let q = 1; q < kk; q++) if (bufferValue[q] < bar) bar = bufferValue[q];
      // Columns arrive in increasing index order, so an equal score loses to every kept one (and NaN fails).
      for (; j < nCols && n < capacity; j++) {
        const v = scores[base + j];
        if (v > bar) {
          bufferValue[n] = v;
          bufferIndex[n++] = j;
        }
      }
    }
    if (n > kk) selectBest(bufferValue, bufferIndex, n, kk);
    const m = Math.min(n, kk);
    // Heap sort of the m best: a min-heap (root = worst), repeatedly moving the root to the end.
    for (let i = (m >> 1) - 1; i >= 0; i--) siftDown(bufferValue, bufferIndex, i, m);
    const out = row * kk;
    for (let size = m; size > 0; size--) {
      const item = bufferIndex[0];
      indices[out + size - 1] = item;
      values[out + size - 1] = scores[base + item];
      bufferValue[0] = bufferValue[size - 1];
      bufferIndex[0] = bufferIndex[size - 1];
      siftDown(bufferValue, bufferIndex, 0, size - 1);
    }
  }
  return { indices, values, k: kk };
}
