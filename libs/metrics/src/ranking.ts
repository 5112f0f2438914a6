import { DatasetError } from '@sgfd/contracts';
import { topK, type CsrStructure } from '@sgfd/tensor';
import { checkCsr, groupByUser, type UserItemPairs } from './user-items';

export const DEFAULT_KS: readonly number[] = [5, 10, 20, 50];

/** Scores per user and item; the matrix may be overwritten by the evaluator (masking). */
export type ScoreUsers = (users: Int32Array) => Float32Array;

export interface EvaluateRankingOptions {
  nUsers: number;
  nItems: number;
  /** Row-major [users.length, nItems] scores for the given users. */
  score: ScoreUsers;
  /** Each user's training items: masked from the ranking. */
  trainCsr: CsrStructure;
  /** The split being evaluated (e.g. valid or test pairs). Users without any are skipped. */
  truth: UserItemPairs;
  /**
   * Further pairs masked from the ranking, e.g. validation items when scoring test. MMRec does not
   * mask them, so neither does the default; pass them to rank only unseen items.
   */
  mask?: UserItemPairs[];
  ks?: readonly number[];
  /** Users scored at once; memory is batchUsers x nItems floats. Default keeps that under 64 MB. */
  batchUsers?: number;
  /**
   * Also report the authors' variants, for comparing with the paper only: `ndcg_hits@K` (DCG over the
   * ideal DCG of the hits found, which inflates NDCG) and `recall_micro@K` (total hits / total truth items,
   * only in `mean`).
   */
  compatibilityMetrics?: boolean;
}

export interface RankingResult {
  /** Averages over evaluated users: `recall@20`, `ndcg@20`, `precision@20`, `map@20`, `hit@20`, ... */
  mean: Record<string, number>;
  /** One value per evaluated user (those with truth items, in increasing id order) and metric. */
  perUser: { users: Int32Array; metrics: Record<string, Float32Array> };
}

const MAX_BATCH_FLOATS = 1 << 24;

function checkKs(ks: readonly number[]): number[] {
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`ks must be positive integers, got [${ks.join(', ')}]`);
  }
  return sorted;
}

/**
 * Full-ranking evaluation: every evaluated user's scores over all items, training (and `mask`) items
 * excluded, the top max(ks) compared with the user's truth items.
 *
 * Per user u with truth set T and ranked list r_1, r_2, ... (rel_i = 1 when r_i is in T), at cutoff K:
 * - recall = hits / |T|, precision = hits / K, hit = [hits > 0]
 * - ndcg = sum_{i<=K} rel_i / log2(i + 1) divided by the same sum for an ideal list of min(|T|, K) hits
 * - map = sum_{i<=K} rel_i * hits@i / i, divided by min(|T|, K)
 * Masked items and items scoring -Infinity or NaN are never ranked, so they cannot be hits; |T| still
 * counts every truth item. Ties between equal scores go to the lower item id.
 */
export function evaluateRanking(options: EvaluateRankingOptions): RankingResult {
  const { nUsers, nItems, score, trainCsr, truth } = options;
  if (!Number.isInteger(nUsers) || nUsers < 0 || !Number.isInteger(nItems) || nItems < 1) {
    throw new RangeError(`evaluateRanking: bad sizes nUsers=${nUsers}, nItems=${nItems}`);
  }
  const ks = checkKs(options.ks ?? DEFAULT_KS);
  const maxK = ks[ks.length - 1];
  const compat = options.compatibilityMetrics ?? false;
  checkCsr(trainCsr, nUsers, nItems, 'trainCsr');
  const truthCsr = groupByUser(truth, nUsers, nItems, 'truth');
  const masks = (options.mask ?? []).map((pairs, i) => groupByUser(pairs, nUsers, nItems, `mask[${i}]`));

  const evalUsers = usersWithItems(truthCsr);
  if (evalUsers.length === 0) {
    throw new DatasetError('No user has a truth item: nothing to evaluate', {
      field: 'truth',
      found: `${truth.users.length} pairs`,
    });
  }
  const batch = options.batchUsers ?? Math.max(1, Math.floor(MAX_BATCH_FLOATS / nItems));
  if (!Number.isInteger(batch) || batch < 1)
    throw new RangeError(`batchUsers must be a positive integer, got ${batch}`);

  const names = metricNames(ks, compat);
  const perUser: Record<string, Float32Array> = {};
  const sums: Record<string, number> = {};
  for (const name of names) {
    perUser[name] = new Float32Array(evalUsers.length);
    sums[name] = 0;
  }
  const microHits = new Float64Array(ks.length);
  let microTruth = 0;

  // discount[i] = 1 / log2(i + 2) for rank i + 1; idealDcg[n] = sum of the first n discounts.
  const discount = Float64Array.from({ length: maxK }, (_, i) => 1 / Math.log2(i + 2));
  const idealDcg = new Float64Array(maxK + 1);
  for (let i = 0; i < maxK; i++) idealDcg[i + 1] = idealDcg[i] + discount[i];

  const isTruth = new Uint8Array(nItems);
  for (let start = 0; start < evalUsers.length; start += batch) {
    const users = evalUsers.subarray(start, Math.min(start + batch, evalUsers.length));
    const scores = score(users);
    if (scores.length !== users.length * nItems) {
      throw new RangeError(`score() returned ${scores.length} values for ${users.length} users x ${nItems} items`);
    }
    for (let row = 0; row < users.length; row++) {
      const offset = row * nItems;
      const u = users[row];
      for (const csr of [trainCsr, ...masks]) {
        for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) scores[offset + csr.indices[p]] = -Infinity;
      }
    }
    const ranked = topK(scores, users.length, nItems, maxK);

    for (let row = 0; row < users.length; row++) {
      const u = users[row];
      const slot = start + row;
      const truthStart = truthCsr.indptr[u];
      const truthEnd = truthCsr.indptr[u + 1];
      const nTruth = truthEnd - truthStart;
      for (let p = truthStart; p < truthEnd; p++) isTruth[truthCsr.indices[p]] = 1;
      microTruth += nTruth;

      let hits = 0;
      let dcg = 0;
      let apSum = 0;
      let kIndex = 0;
      let ranking = true;
      for (let i = 0; i < maxK && kIndex < ks.length; i++) {
        if (ranking && i < ranked.k) {
          const value = ranked.values[row * ranked.k + i];
          if (!(value > -Infinity)) ranking = false;
          else if (isTruth[ranked.indices[row * ranked.k + i]]) {
            hits++;
            dcg += discount[i];
            apSum += hits / (i + 1);
          }
        }
        while (kIndex < ks.length && ks[kIndex] === i + 1) {
          const k = ks[kIndex];
          const idealHits = Math.min(nTruth, k);
          const values: Record<string, number> = {
            [`recall@${k}`]: hits / nTruth,
            [`ndcg@${k}`]: dcg / idealDcg[idealHits],
            [`precision@${k}`]: hits / k,
            [`map@${k}`]: apSum / idealHits,
            [`hit@${k}`]: hits > 0 ? 1 : 0,
          };
          if (compat) values[`ndcg_hits@${k}`] = hits > 0 ? dcg / idealDcg[hits] : 0;
          for (const name in values) {
            perUser[name][slot] = values[name];
            sums[name] += values[name];
          }
          microHits[kIndex] += hits;
          kIndex++;
        }
      }
      for (let p = truthStart; p < truthEnd; p++) isTruth[truthCsr.indices[p]] = 0;
    }
  }

  const mean: Record<string, number> = {};
  for (const name of names) mean[name] = sums[name] / evalUsers.length;
  if (compat) ks.forEach((k, i) => (mean[`recall_micro@${k}`] = microHits[i] / microTruth));
  return { mean, perUser: { users: evalUsers, metrics: perUser } };
}

function usersWithItems(csr: CsrStructure): Int32Array {
  const users: number[] = [];
  for (let u = 0; u + 1 < csr.indptr.length; u++) if (csr.indptr[u + 1] > csr.indptr[u]) users.push(u);
  return Int32Array.from(users);
}

function metricNames(ks: readonly number[], compat: boolean): string[] {
  const bases = ['recall', 'ndcg', 'precision', 'map', 'hit', ...(compat ? ['ndcg_hits'] : [])];
  return ks.flatMap((k) => bases.map((b) => `${b}@${k}`));
}
