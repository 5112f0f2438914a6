import { makeVector, Table } from 'apache-arrow';
import type { ExcludeSeen } from '@sgfd/contracts';
import { encodeParquet } from '@sgfd/data';
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

/** One row per (user, rank): user, rank (1 = best), item (snapshot indices), score; K and masking in the metadata. */
export function recommendationsParquet(recs: AllRecommendations): Uint8Array {
  const table = new Table({
    user: makeVector(recs.users),
    rank: makeVector(recs.ranks),
    item: makeVector(recs.items),
    score: makeVector(recs.scores),
  });
  return encodeParquet(table, {
    [RECOMMENDATIONS_METADATA.k]: String(recs.k),
    [RECOMMENDATIONS_METADATA.excludeSeen]: recs.excludeSeen,
  });
}
