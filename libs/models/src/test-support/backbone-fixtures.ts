// Small random data for the graph backbones' unit tests, and dense references of the sparse pieces.
import type { Modality } from '@sgfd/contracts';
import { join } from 'node:path';
import { createRng, tf, type Rng } from '@sgfd/tensor';
import { expect } from 'vitest';
import type { Backbone, BackboneData, FeatureTensors, TrainBatch } from '../backbone';
import { createBackbone } from '../registry';

export interface SmallData {
  data: BackboneData;
  features: FeatureTensors;
  /** One positive per user (its first item) and `negatives` negatives per positive among its non-items. */
  batch: TrainBatch;
  /** Dense user x item training matrix (1 = interaction). */
  interactions: number[][];
  rng: Rng;
}

/**
 * `nUsers` users with 2 or 3 training items each among `nItems`, image-like (non-negative) and text-like
 * features of the given widths, and one training batch.
 */
export function smallData(
  seed: number,
  options: { nUsers?: number; nItems?: number; dims?: Partial<Record<Modality, number>>; negatives?: number } = {},
): SmallData {
  const { nUsers = 5, nItems = 6, dims = { image: 4, text: 3 }, negatives = 1 } = options;
  const rng = createRng(seed);
  const indptr = new Int32Array(nUsers + 1);
  const indices: number[] = [];
  const interactions = Array.from({ length: nUsers }, () => new Array<number>(nItems).fill(0));
  for (let u = 0; u < nUsers; u++) {
    const want = 2 + rng.int(2);
    const items = new Set<number>();
    while (items.size < want) items.add(rng.int(nItems));
    const sorted = [...items].sort((a, b) => a - b);
    indices.push(...sorted);
    indptr[u + 1] = indices.length;
    for (const i of sorted) interactions[u][i] = 1;
  }
  const features: FeatureTensors = {};
  const featureDims: BackboneData['featureDims'] = {};
  for (const [m, dim] of Object.entries(dims) as [Modality, number][]) {
    featureDims[m] = dim;
    const values = Float32Array.from({ length: nItems * dim }, () =>
      m === 'image' ? Math.abs(rng.normal()) : rng.normal(),
    );
    features[m] = tf.tensor2d(values, [nItems, dim]);
  }
  const users = Int32Array.from({ length: nUsers }, (_, u) => u);
  const items = Int32Array.from(users, (u) => indices[indptr[u]]);
  const negItems = new Int32Array(nUsers * negatives);
  for (let u = 0; u < nUsers; u++) {
    for (let j = 0; j < negatives; j++) {
      let i = rng.int(nItems);
      while (interactions[u][i]) i = rng.int(nItems);
      negItems[u * negatives + j] = i;
    }
  }
  return {
    data: { nUsers, nItems, featureDims, trainCsr: { indptr, indices: Int32Array.from(indices) } },
    features,
    batch: { users, items, negItems },
    interactions,
    rng,
  };
}

/** One plain gradient-descent step on `batch`, with the backbone's per-step hook, as the trainer runs it. */
export function sgdStep(model: Backbone, batch: TrainBatch, learningRate = 0.01): void {
  const { value, grads } = tf.variableGrads(() => model.loss(batch).total, model.variables);
  tf.tidy(() =>
    model.variables.forEach((v) => grads[v.name] && v.assign(tf.sub(v, tf.mul(grads[v.name]!, learningRate)))),
  );
  tf.dispose([value, ...Object.values(grads)]);
  model.afterStep?.();
}

/**
 * Builds backbone `name` on `small` and runs rounds of (epoch start, when `epochs` is set, then
 * `stepsPerRound` gradient steps, then scoring every user): one to warm up, then three more, after which
 * no tensor may be left over. Disposes the model and the features.
 */
export function expectLeakFreeTraining(
  name: string,
  small: SmallData,
  options: { epochs?: boolean; stepsPerRound?: number; params?: Record<string, unknown> } = {},
): void {
  const { data, features, batch, rng } = small;
  const model = createBackbone(name, { data, features, params: options.params ?? {}, rng });
  const round = (k: number) => {
    if (options.epochs) model.onEpochStart!(k + 1, rng);
    for (let s = 0; s < (options.stepsPerRound ?? 1); s++) sgdStep(model, batch);
    allScores(model, data.nUsers);
  };
  try {
    round(0);
    const before = tf.memory().numTensors;
    for (let k = 1; k <= 3; k++) round(k);
    expect(tf.memory().numTensors).toBe(before);
  } finally {
    model.dispose();
    tf.dispose(Object.values(features));
  }
}

/** Two models of one backbone from different seeds score differently until one loads the other's saved weights. */
export async function expectSaveLoadRoundTrip(
  name: string,
  small: Pick<SmallData, 'data' | 'features'>,
  dir: string,
  seeds: [number, number],
): Promise<void> {
  const { data, features } = small;
  const a = createBackbone(name, { data, features, params: {}, rng: createRng(seeds[0]) });
  const b = createBackbone(name, { data, features, params: {}, rng: createRng(seeds[1]) });
  try {
    expect(allScores(b, data.nUsers)).not.toEqual(allScores(a, data.nUsers));
    await a.save(join(dir, name));
    await b.load(join(dir, name));
    expect(allScores(b, data.nUsers)).toEqual(allScores(a, data.nUsers));
  } finally {
    a.dispose();
    b.dispose();
    tf.dispose(Object.values(features));
  }
}

/** Scores of every user for every item, as a plain array. */
export function allScores(model: Backbone, nUsers: number): number[] {
  const scorer = model.scorer();
  try {
    return Array.from(scorer.scoreUsers(Int32Array.from({ length: nUsers }, (_, u) => u)));
  } finally {
    scorer.dispose();
  }
}

/** Row-wise cosine similarities of a dense matrix. */
export function cosineMatrix(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
    return tf.matMul(n, n, false, true) as tf.Tensor2D;
  });
}

/** Keeps the k largest entries of each row (others 0), as MMRec's build_knn_neighbourhood with values. */
export function keepTopK(sims: tf.Tensor2D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, m] = sims.shape;
    const { indices } = tf.topk(sims, k);
    const mask = tf.sum(tf.oneHot(tf.reshape(indices, [-1]), m).reshape([n, k, m]), 1);
    return tf.mul(sims, mask) as tf.Tensor2D;
  });
}

/** D^-1/2 A D^-1/2 with D the row sums (non-positive sums give 0). */
export function symmetricNormalizeDense(a: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const d = tf.sum(a, 1);
    const inv = tf.where(tf.greater(d, 0), tf.rsqrt(tf.maximum(d, 1e-30)), tf.zerosLike(d));
    return tf.mul(tf.mul(a, tf.expandDims(inv, 1)), tf.expandDims(inv, 0)) as tf.Tensor2D;
  });
}

/** The dense bipartite (users + items)^2 matrix of a user x item matrix. */
export function bipartiteDense(r: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [u, i] = r.shape;
    const top = tf.concat([tf.zeros([u, u]), r], 1);
    const bottom = tf.concat([tf.transpose(r), tf.zeros([i, i])], 1);
    return tf.concat([top, bottom], 0) as tf.Tensor2D;
  });
}

/** Softmax over the entries of each row where mask is 1 (rows without any stay 0). */
export function maskedRowSoftmax(scores: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const masked = tf.where(tf.greater(mask, 0), scores, tf.fill(scores.shape, -1e9));
    return tf.mul(tf.softmax(masked), mask) as tf.Tensor2D;
  });
}

/** BPR -mean log sigmoid(<u, pos> - <u, neg>) on dense rows. */
export function bprDense(u: tf.Tensor2D, pos: tf.Tensor2D, neg: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () =>
      tf.neg(tf.mean(tf.log(tf.sigmoid(tf.sub(tf.sum(tf.mul(u, pos), 1), tf.sum(tf.mul(u, neg), 1)))))) as tf.Scalar,
  );
}
