import type { LoadedDataset } from '@sgfd/data';
import { evaluateRanking, type RankingResult } from '@sgfd/metrics';
import type { Backbone } from '@sgfd/models';

export const VALID_METRIC = 'recall@20';

export interface SplitEvaluationOptions {
  /** When scoring test, also mask each user's validation items (MMRec does not). */
  maskValidInTest?: boolean;
  ks?: readonly number[];
}

/** Full ranking of every user with truth items in `split`, training items masked. */
export function evaluateSplit(
  dataset: LoadedDataset,
  score: (users: Int32Array) => Float32Array,
  split: 'valid' | 'test',
  options: SplitEvaluationOptions = {},
): RankingResult {
  return evaluateRanking({
    nUsers: dataset.nUsers,
    nItems: dataset.nItems,
    score,
    trainCsr: dataset.trainCsr,
    truth: dataset.splits[split],
    mask: split === 'test' && options.maskValidInTest ? [dataset.splits.valid] : undefined,
    ks: options.ks,
  });
}

export function evaluateBackbone(
  dataset: LoadedDataset,
  backbone: Backbone,
  split: 'valid' | 'test',
  options: SplitEvaluationOptions = {},
): RankingResult {
  const scorer = backbone.scorer();
  try {
    return evaluateSplit(dataset, (users) => scorer.scoreUsers(users), split, options);
  } finally {
    scorer.dispose();
  }
}

/** Most-popular baseline: every user gets the items ranked by their number of training interactions. */
export function evaluatePopularity(
  dataset: LoadedDataset,
  split: 'valid' | 'test',
  options: SplitEvaluationOptions = {},
): RankingResult {
  const counts = new Float32Array(dataset.nItems);
  for (const item of dataset.splits.train.items) counts[item]++;
  return evaluateSplit(
    dataset,
    (users) => {
      const out = new Float32Array(users.length * dataset.nItems);
      for (let r = 0; r < users.length; r++) out.set(counts, r * dataset.nItems);
      return out;
    },
    split,
    options,
  );
}
