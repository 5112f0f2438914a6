import { Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { encodeParquet, type IdMap, type LoadedDataset } from '@sgfd/data';
import type { Scorer } from '@sgfd/models';
import { topK } from '@sgfd/tensor';

export interface Recommendations {
  /** Row-major [nUsers, k] item ids, best first; -1 where a user has fewer than k unseen items. */
  items: Int32Array;
  scores: Float32Array;
  k: number;
}

/** Users scored at once: keeps the score matrix under ~64 MB. */
const SCORE_BUDGET = 1 << 24;

/**
 * The top-k items for every user among those the user has not interacted with in training or validation
 * (what would be served after the validation period).
 */
export function recommendForAll(dataset: LoadedDataset, scorer: Scorer, k: number): Recommendations {
  const { nUsers, nItems } = dataset;
  const kk = Math.min(k, nItems);
  const items = new Int32Array(nUsers * kk).fill(-1);
  const scores = new Float32Array(nUsers * kk).fill(Number.NaN);
  const seen = dataset.splits.valid;
  const validStart = new Int32Array(nUsers + 1);
  for (let p = 0; p < seen.users.length; p++) validStart[seen.users[p] + 1]++;
  for (let u = 0; u < nUsers; u++) validStart[u + 1] += validStart[u];
  const validItems = new Int32Array(seen.users.length);
  const cursor = validStart.slice(0, nUsers);
  for (let p = 0; p < seen.users.length; p++) validItems[cursor[seen.users[p]]++] = seen.items[p];

  const batch = Math.max(1, Math.floor(SCORE_BUDGET / nItems));
  for (let start = 0; start < nUsers; start += batch) {
    const users = Int32Array.from({ length: Math.min(batch, nUsers - start) }, (_, r) => start + r);
    const s = scorer.scoreUsers(users);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const row = r * nItems;
      const { indptr, indices } = dataset.trainCsr;
      for (let p = indptr[u]; p < indptr[u + 1]; p++) s[row + indices[p]] = -Infinity;
      for (let p = validStart[u]; p < validStart[u + 1]; p++) s[row + validItems[p]] = -Infinity;
    }
    const top = topK(s, users.length, nItems, kk);
    for (let r = 0; r < users.length; r++) {
      for (let j = 0; j < top.k; j++) {
        const score = top.values[r * top.k + j];
        if (score === -Infinity || Number.isNaN(score)) continue;
        items[(start + r) * kk + j] = top.indices[r * top.k + j];
        scores[(start + r) * kk + j] = score;
      }
    }
  }
  return { items, scores, k: kk };
}

/**
 * One row per (user, rank): user, rank (1 = best), item, score, and user_id / item_id, the ids of the source
 * (the index as text for sources without their own ids). Readable by pandas, DuckDB, Polars.
 */
export function recommendationsParquet(recs: Recommendations, nUsers: number, ids: IdMap): Uint8Array {
  const user: number[] = [];
  const rank: number[] = [];
  const item: number[] = [];
  const score: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let j = 0; j < recs.k; j++) {
      const i = recs.items[u * recs.k + j];
      if (i < 0) continue;
      user.push(u);
      rank.push(j + 1);
      item.push(i);
      score.push(recs.scores[u * recs.k + j]);
    }
  }
  const table = new Table({
    user: makeVector(Int32Array.from(user)),
    rank: makeVector(Int32Array.from(rank)),
    item: makeVector(Int32Array.from(item)),
    score: makeVector(Float32Array.from(score)),
    user_id: vectorFromArray(
      user.map((u) => ids.user(u)),
      new Utf8(),
    ),
    item_id: vectorFromArray(
      item.map((i) => ids.item(i)),
      new Utf8(),
    ),
  });
  return encodeParquet(table);
}

/** The top `n` items of the first `users` users, by the source's ids (for reports and `sgfd results`). */
export function recommendationSample(
  recs: Recommendations,
  ids: IdMap,
  users = 3,
  n = 5,
): { user: string; items: string[] }[] {
  const out: { user: string; items: string[] }[] = [];
  for (let u = 0; u < Math.min(users, ids.nUsers); u++) {
    const items: string[] = [];
    for (let j = 0; j < Math.min(n, recs.k); j++) {
      const i = recs.items[u * recs.k + j];
      if (i >= 0) items.push(ids.item(i));
    }
    out.push({ user: ids.user(u), items });
  }
  return out;
}
