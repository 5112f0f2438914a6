import { DatasetError } from '@sgfd/contracts';
import type { InteractionPairs } from '@sgfd/data';
import type { CsrStructure } from '@sgfd/tensor';
import type { TrainBatch } from '@sgfd/models';
import type { Rng } from '@sgfd/tensor';

/** True when `item` is among the sorted ids indices[start..end). */
function containsSorted(indices: Int32Array, start: number, end: number, item: number): boolean {
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = indices[mid];
    if (v === item) return true;
    if (v < item) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/**
 * MMRec's training data loader: each epoch visits every training interaction once in a fresh random
 * order, in batches; with negatives, each pair gets one item drawn uniformly among the items the user
 * has not interacted with in training. All randomness comes from `rng`, in a fixed order.
 */
export class BprSampler {
  constructor(
    private readonly train: InteractionPairs,
    private readonly trainCsr: CsrStructure,
    private readonly nItems: number,
  ) {
    const { indptr } = trainCsr;
    for (let u = 0; u + 1 < indptr.length; u++) {
      if (indptr[u + 1] - indptr[u] >= nItems) {
        throw new DatasetError('A user has interacted with every item: no negative can be sampled', {
          field: 'train',
          found: `user ${u}`,
        });
      }
    }
  }

  get size(): number {
    return this.train.users.length;
  }

  /** Uniform item not in the user's training items (rejection sampling; users see few items). */
  negative(user: number, rng: Rng): number {
    const { indptr, indices } = this.trainCsr;
    const start = indptr[user];
    const end = indptr[user + 1];
    for (;;) {
      const item = rng.int(this.nItems);
      if (!containsSorted(indices, start, end, item)) return item;
    }
  }

  /**
   * One epoch of batches. With `negativesPerPositive` = k > 0, `negItems` holds k negatives per pair, pair
   * by pair (negItems[i * k + j]); with 0 it is null.
   */
  epoch(rng: Rng, batchSize: number, negativesPerPositive: number): TrainBatch[] {
    const n = this.size;
    const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    const batches: TrainBatch[] = [];
    for (let start = 0; start < n; start += batchSize) {
      const rows = order.subarray(start, Math.min(n, start + batchSize));
      const users = new Int32Array(rows.length);
      const items = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        users[i] = this.train.users[rows[i]];
        items[i] = this.train.items[rows[i]];
      }
      let negItems: Int32Array | null = null;
      if (negativesPerPositive > 0) {
        const k = negativesPerPositive;
        negItems = new Int32Array(rows.length * k);
        for (let i = 0; i < rows.length; i++)
          for (let j = 0; j < k; j++) negItems[i * k + j] = this.negative(users[i], rng);
      }
      batches.push({ users, items, negItems });
    }
    return batches;
  }
}
