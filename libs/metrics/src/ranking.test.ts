import { DatasetError } from '@sgfd/contracts';
import { describe, expect, it } from 'vitest';
import { evaluateRanking, type EvaluateRankingOptions } from './ranking';
import { groupByUser } from './user-items';

const N_ITEMS = 6;
const D2 = 1 / Math.log2(3); // discount of rank 2
const D4 = 1 / Math.log2(5); // discount of rank 4

/** Fixed score rows per user; each call returns a fresh matrix for the requested users. */
function scorer(rows: Record<number, number[]>, calls: number[] = []): EvaluateRankingOptions['score'] {
  return (users) => {
    calls.push(users.length);
    const out = new Float32Array(users.length * N_ITEMS);
    users.forEach((u, r) => out.set(rows[u] ?? new Array(N_ITEMS).fill(0), r * N_ITEMS));
    return out;
  };
}

function pairs(list: Array<[number, number]>): { users: Int32Array; items: Int32Array } {
  return { users: Int32Array.from(list.map((p) => p[0])), items: Int32Array.from(list.map((p) => p[1])) };
}

// user 0: train {0}; ranking after masking 2, 4, 3, 5, 1; truth {4, 5} -> hits at ranks 2 and 4.
// user 1: no truth: skipped.
// user 2: all scores tied, no train; truth {0, 1, 2} (more than K for K < 3) -> ranks 1, 2, 3.
// user 3: all scores tied, train {0, 1}; truth {3} -> ranking 2, 3, 4, 5: hit at rank 2.
const NUSERS = 4;
const rows = {
  0: [0.9, 0.1, 0.8, 0.3, 0.5, 0.2],
  1: [1, 2, 3, 4, 5, 6],
  2: [1, 1, 1, 1, 1, 1],
  3: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
};
const train = groupByUser(
  pairs([
    [0, 0],
    [3, 0],
    [3, 1],
  ]),
  NUSERS,
  N_ITEMS,
  'train',
);
const truth = pairs([
  [0, 4],
  [0, 5],
  [2, 0],
  [2, 1],
  [2, 2],
  [3, 3],
]);

function base(extra: Partial<EvaluateRankingOptions> = {}): EvaluateRankingOptions {
  return { nUsers: NUSERS, nItems: N_ITEMS, score: scorer(rows), trainCsr: train, truth, ks: [1, 2, 4, 10], ...extra };
}

function userMetrics(result: ReturnType<typeof evaluateRanking>, user: number): Record<string, number> {
  const slot = Array.from(result.perUser.users).indexOf(user);
  return Object.fromEntries(Object.entries(result.perUser.metrics).map(([name, v]) => [name, v[slot]]));
}

function expectClose(actual: Record<string, number>, expected: Record<string, number>): void {
  for (const [name, value] of Object.entries(expected)) expect(actual[name], name).toBeCloseTo(value, 6);
}

describe('evaluateRanking', () => {
  const result = evaluateRanking(base({ compatibilityMetrics: true }));

  it('skips users without truth items', () => {
    expect(Array.from(result.perUser.users)).toEqual([0, 2, 3]);
  });

  it('masks training items and scores recall, precision, NDCG, MAP and hit rate by hand', () => {
    const idcg2 = 1 + D2;
    expectClose(userMetrics(result, 0), {
      'recall@1': 0,
      'precision@1': 0,
      'ndcg@1': 0,
      'map@1': 0,
      'hit@1': 0,
      'recall@2': 0.5,
      'precision@2': 0.5,
      'ndcg@2': D2 / idcg2,
      'map@2': 0.5 / 2,
      'hit@2': 1,
      'recall@4': 1,
      'precision@4': 0.5,
      'ndcg@4': (D2 + D4) / idcg2,
      'map@4': (1 / 2 + 2 / 4) / 2,
      'hit@4': 1,
    });
  });

  it('handles K > n_items: the ranked list ends, precision still divides by K', () => {
    // user 0 has only 5 rankable items; both truth items are among them.
    expectClose(userMetrics(result, 0), {
      'recall@10': 1,
      'precision@10': 0.2,
      'ndcg@10': (D2 + D4) / (1 + D2),
      'map@10': 0.5,
      'hit@10': 1,
    });
  });

  it('takes IDCG and the MAP denominator over min(|test|, K) when |test| > K, ties to the lower item id', () => {
    // user 2: ties rank items 0, 1, 2 first, all truth.
    expectClose(userMetrics(result, 2), {
      'recall@1': 1 / 3,
      'precision@1': 1,
      'ndcg@1': 1,
      'map@1': 1,
      'recall@2': 2 / 3,
      'precision@2': 1,
      'ndcg@2': 1,
      'map@2': 1,
      'recall@4': 1,
      'precision@4': 0.75,
      'ndcg@4': 1,
      'map@4': 1,
    });
    // user 3: ties after masking rank 2, 3, 4, 5: the truth item 3 is second.
    expectClose(userMetrics(result, 3), {
      'recall@1': 0,
      'recall@2': 1,
      'ndcg@2': D2,
      'map@2': 0.5,
      'precision@2': 0.5,
      'ndcg@4': D2,
    });
  });

  it('averages per-user values over evaluated users', () => {
    for (const [name, values] of Object.entries(result.perUser.metrics)) {
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      expect(result.mean[name], name).toBeCloseTo(mean, 6);
    }
    expect(result.mean['recall@2']).toBeCloseTo((0.5 + 2 / 3 + 1) / 3, 6);
  });

  it("offers the authors' hit-normalised NDCG and micro recall only as named extras", () => {
    // ndcg_hits divides DCG by the ideal DCG of the hits found: user 0 at K = 2 has one hit at rank 2.
    expect(userMetrics(result, 0)['ndcg_hits@2']).toBeCloseTo(D2, 6);
    expect(userMetrics(result, 0)['ndcg_hits@4']).toBeCloseTo((D2 + D4) / (1 + D2), 6);
    expect(userMetrics(result, 0)['ndcg_hits@1']).toBe(0);
    // micro recall at 2: (1 + 2 + 1) hits over (2 + 3 + 1) truth items.
    expect(result.mean['recall_micro@2']).toBeCloseTo(4 / 6, 6);
    const plain = evaluateRanking(base());
    expect(Object.keys(plain.mean).some((k) => k.includes('ndcg_hits') || k.includes('micro'))).toBe(false);
    expect(plain.mean['ndcg@4']).toBeCloseTo(result.mean['ndcg@4'], 12);
  });

  it('never ranks masked items: a user whose every item is masked scores 0 but still counts', () => {
    // user 1 gets a truth item 5; train covers 0-4 and the extra mask covers 5.
    const trainAll = groupByUser(
      pairs([
        [0, 0],
        [3, 0],
        [3, 1],
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 3],
        [1, 4],
      ]),
      NUSERS,
      N_ITEMS,
      'train',
    );
    const r = evaluateRanking(
      base({
        trainCsr: trainAll,
        truth: pairs([
          [1, 5],
          [0, 4],
        ]),
        mask: [pairs([[1, 5]])],
      }),
    );
    expect(Array.from(r.perUser.users)).toEqual([0, 1]);
    for (const value of Object.values(userMetrics(r, 1))) expect(value).toBe(0);
    expect(r.mean['hit@10']).toBeCloseTo(0.5, 6);
  });

  it('masks extra pairs (e.g. validation items when scoring test) only when asked', () => {
    // user 0's best unmasked item is 2; masking it moves truth item 4 to rank 1.
    const unmasked = evaluateRanking(base({ truth: pairs([[0, 4]]) }));
    const masked = evaluateRanking(base({ truth: pairs([[0, 4]]), mask: [pairs([[0, 2]])] }));
    expect(unmasked.mean['recall@1']).toBe(0);
    expect(masked.mean['recall@1']).toBe(1);
    expect(masked.mean['ndcg@1']).toBe(1);
  });

  it('scores at most batchUsers users at a time with identical results', () => {
    const calls: number[] = [];
    const batched = evaluateRanking(base({ score: scorer(rows, calls), batchUsers: 2 }));
    expect(calls).toEqual([2, 1]);
    expect(batched.mean).toEqual(evaluateRanking(base()).mean);
  });

  it('keeps the default batch under 2^24 scores however many users there are', () => {
    const nItems = 1 << 16;
    const nUsers = 300;
    const calls: number[] = [];
    const buffer = new Float32Array(256 * nItems);
    const r = evaluateRanking({
      nUsers,
      nItems,
      score: (users) => {
        calls.push(users.length);
        const out = buffer.subarray(0, users.length * nItems);
        for (let row = 0; row < users.length; row++)
          out
            .fill(0, row * nItems, (row + 1) * nItems)
            .fill(1, row * nItems + users[row], row * nItems + users[row] + 1);
        return out;
      },
      trainCsr: { indptr: new Int32Array(nUsers + 1), indices: new Int32Array(0) },
      truth: {
        users: Int32Array.from({ length: nUsers }, (_, u) => u),
        items: Int32Array.from({ length: nUsers }, (_, u) => u),
      },
      ks: [1],
    });
    expect(calls).toEqual([256, 44]);
    expect(r.mean['recall@1']).toBe(1);
  });

  it('rejects ids out of range and splits without any truth with DatasetErrors naming the field', () => {
    expect(() => evaluateRanking(base({ truth: pairs([[0, 6]]) }))).toThrow(DatasetError);
    expect(() => evaluateRanking(base({ truth: pairs([[0, 6]]) }))).toThrow(
      /field 'truth.items'.*expected 0 <= id < 6, found 6/,
    );
    expect(() => evaluateRanking(base({ truth: pairs([]) }))).toThrow(/No user has a truth item/);
    const badTrain = { indptr: Int32Array.from([0, 1, 1, 1]), indices: Int32Array.from([0]) };
    expect(() => evaluateRanking(base({ trainCsr: badTrain }))).toThrow(/trainCsr.*not a CSR over 4 users/);
    expect(() => evaluateRanking(base({ ks: [0] }))).toThrow(/positive integers/);
  });
});
