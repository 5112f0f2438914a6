import type { ExcludeSeen } from '@sgfd/contracts';
import type { Scorer } from './scorer';
import { maskSeen, type SeenItems } from './seen-items';

export interface Ranked {
  /** Item indices, best first; shorter than k when fewer items are left after masking. */
  items: Int32Array;
  scores: Float32Array;
}

/** a ranks before b: higher score, then lower item index (deterministic ties). */
const before = (sa: number, ia: number, sb: number, ib: number) => sa > sb || (sa === sb && ia < ib);

/**
 * The k best entries of `scores`, skipping -Infinity and NaN, best first, ties to the lower index: a
 * size-k heap whose root is the worst kept entry, so it costs O(n log k).
 */
export function topKOfRow(scores: Float32Array, k: number): Ranked {
  const heapItems = new Int32Array(k);
  const heapScores = new Float32Array(k);
  let size = 0;
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < size && before(heapScores[worst], heapItems[worst], heapScores[l], heapItems[l])) worst = l;
      if (r < size && before(heapScores[worst], heapItems[worst], heapScores[r], heapItems[r])) worst = r;
      if (worst === i) return;
      [heapItems[i], heapItems[worst]] = [heapItems[worst], heapItems[i]];
      [heapScores[i], heapScores[worst]] = [heapScores[worst], heapScores[i]];
      i = worst;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s === -Infinity || Number.isNaN(s)) continue;
    if (size < k) {
      let c = size++;
      heapItems[c] = i;
      heapScores[c] = s;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!before(heapScores[parent], heapItems[parent], heapScores[c], heapItems[c])) break;
        [heapItems[c], heapItems[parent]] = [heapItems[parent], heapItems[c]];
        [heapScores[c], heapScores[parent]] = [heapScores[parent], heapScores[c]];
        c = parent;
      }
    } else if (before(s, i, heapScores[0], heapItems[0])) {
      heapItems[0] = i;
      heapScores[0] = s;
      siftDown(0);
    }
  }
  const order = Array.from({ length: size }, (_, j) => j).sort((a, b) =>
    before(heapScores[a], heapItems[a], heapScores[b], heapItems[b]) ? -1 : 1,
  );
  return {
    items: Int32Array.from(order, (j) => heapItems[j]),
    scores: Float32Array.from(order, (j) => heapScores[j]),
  };
}

/**
 * Top-K recommendations from precomputed scoring: one user's scores, the excluded items masked, the k best.
 * `sgfd recommend`, `sgfd serve` and the evaluation's recommendations.parquet all rank through this.
 */
export class Recommender {
  private readonly buffer: Float32Array;

  constructor(
    readonly scorer: Scorer,
    readonly seen: SeenItems,
  ) {
    this.buffer = new Float32Array(scorer.nItems);
  }

  recommend(user: number, k: number, exclude: ExcludeSeen): Ranked {
    const scores = this.buffer;
    this.scorer.scoreUser(user, scores);
    maskSeen(this.seen, exclude, user, scores);
    return topKOfRow(scores, Math.min(k, this.scorer.nItems));
  }
}
