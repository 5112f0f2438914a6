import { makeVector, Table, Utf8, vectorFromArray } from 'apache-arrow';
import type { ExcludeSeen } from '@sgfd/contracts';
import { encodeParquet } from '@sgfd/data';
import type { IdMap } from './ids';
import type { Recommender } from './top-k';

/** Key-value metadata of a recommendations file: its K and which seen items were excluded. */
export const RECOMMENDATIONS_METADATA = { k: 'sgfd.k', excludeSeen: 'sgfd.exclude_seen' } as const;

export interface AllRecommendations {
  k: number;
  excludeSeen: ExcludeSeen;
  /** One entry per (user, rank), users in index order. */
  users: Int32Array;
  ranks: Int32Array;
  items: Int32Array;
  scores: Float32Array;
}

/** The top `n` items of the first `users` users, by the source's ids (for reports and `sgfd results`). */
export function recommendationSample(
  recs: AllRecommendations,
  ids: IdMap,
  users = 3,
  n = 5,
): { user: string; items: string[] }[] {
  const out: { user: string; items: string[] }[] = [];
  for (let p = 0; p < recs.users.length; p++) {
    const u = recs.users[p];
    let entry = out[out.length - 1];
    if (!entry || entry.user !== ids.userId(u)) {
      if (out.length === users) break;
      entry = { user: ids.userId(u), items: [] };
      out.push(entry);
    }
    if (recs.ranks[p] <= n) entry.items.push(ids.itemId(recs.items[p]));
  }
  return out;
}

/** Every user's top-k (fewer where fewer items are left after masking). */
export function recommendAll(recommender: Recommender, k: number, excludeSeen: ExcludeSeen): AllRecommendations {
  const { nUsers } = recommender.scorer;
  const users: number[] = [];
  const ranks: number[] = [];
  const items: number[] = [];
  const scores: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const top = recommender.recommend(u, k, excludeSeen);
    for (let j = 0; j < top.items.length; j++) {
      users.push(u);
      ranks.push(j + 1);
      items.push(top.items[j]);
      scores.push(top.scores[j]);
    }
  }
  return {
    k,
    excludeSeen,
    users: Int32Array.from(users),
    ranks: Int32Array.from(ranks),
    items: Int32Array.from(items),
    scores: Float32Array.from(scores),
  };
}

/**
 * One row per (user, rank): user, rank (1 = best), item (snapshot indices), score, and with `ids` user_id /
 * item_id, the ids of the source (the index as text for sources without their own); K and masking in the
 * metadata. Readable by pandas, DuckDB, Polars.
 */
export function recommendationsParquet(recs: AllRecommendations, ids?: IdMap): Uint8Array {
  const table = new Table({
    user: makeVector(recs.users),
    rank: makeVector(recs.ranks),
    item: makeVector(recs.items),
    score: makeVector(recs.scores),
    ...(ids
      ? {
          user_id: vectorFromArray(
            Array.from(recs.users, (u) => ids.userId(u)),
            new Utf8(),
          ),
          item_id: vectorFromArray(
            Array.from(recs.items, (i) => ids.itemId(i)),
            new Utf8(),
          ),
        }
      : {}),
  });
  return encodeParquet(table, {
    [RECOMMENDATIONS_METADATA.k]: String(recs.k),
    [RECOMMENDATIONS_METADATA.excludeSeen]: recs.excludeSeen,
  });
}
