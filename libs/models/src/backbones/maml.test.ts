import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import { createRng, customOpsAvailable, initBackend, isNativeBackend, setCustomOpsEnabled, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backbone, FeatureTensors, TrainBatch } from '../backbone';
import { createBackbone } from '../registry';
import { allScores, smallData } from '../test-support/backbone-fixtures';
import { checkGradients } from '@sgfd/tensor/testing';
import './index';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-maml-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const params = {
  embeddingSize: 3,
  featureDim: 2,
  hiddenDim: 6,
  attentionExpansion: 2,
  margin: 0.5,
  nNegatives: 2,
  featureL2Reg: 0.3,
  covWeight: 2,
  clipNorm: 1,
  projectionScale: 1.5,
};
const norm = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-6)) as tf.Tensor2D;
const clip = (x: tf.Tensor2D, c: number) =>
  tf.mul(x, tf.minimum(tf.div(c, tf.norm(x, 'euclidean', 1, true)), 1)) as tf.Tensor2D;

/** MAML pair by pair with the plain attention MLP on [u; i; f]: the loss and the scores. */
function reference(model: Backbone, features: FeatureTensors, batch: TrainBatch, p = params) {
  return tf.tidy(() => {
    const w = model.weights;
    const dense = (x: tf.Tensor2D, name: string) =>
      tf.add(tf.matMul(x, w[`${name}.kernel`]), w[`${name}.bias`]) as tf.Tensor2D;
    const slots = (['image', 'text'] as const).map((m) => dense(features[m]!, `projection.${m}`));
    let h = tf.relu(dense(norm(tf.concat(slots, 1) as tf.Tensor2D), 'content.0'));
    h = tf.relu(dense(norm(h), 'content.1'));
    h = tf.relu(dense(norm(h), 'content.2'));
    const content = clip(tf.mul(dense(h, 'content.3'), p.projectionScale) as tf.Tensor2D, p.clipNorm);
    const users = w['user.embedding'] as tf.Tensor2D;
    const items = w['item.embedding'] as tf.Tensor2D;
    const distance = (uIds: number[], iIds: number[]) => {
      const u = tf.gather(users, uIds);
      const i = tf.gather(items, iIds);
      const input = norm(tf.concat([u, i, tf.gather(content, iIds)], 1) as tf.Tensor2D);
      const hidden = norm(tf.tanh(dense(input, 'attention.in')));
      const a = tf.mul(tf.softmax(tf.relu(dense(hidden, 'attention.out'))), p.embeddingSize);
      return tf.sum(tf.square(tf.sub(tf.mul(a, u), tf.mul(a, i))), 1);
    };
    const b = batch.users.length;
    const pos = distance([...batch.users], [...batch.items]).arraySync() as number[];
    const neg = distance(
      [...batch.users].flatMap((u) => Array(p.nNegatives).fill(u)),
      [...batch.negItems!],
    ).arraySync() as number[];
    let metric = 0;
    for (let k = 0; k < b; k++) {
      const negs = neg.slice(k * p.nNegatives, (k + 1) * p.nNegatives);
      const impostors = negs.filter((d) => pos[k] - d + p.margin > 0).length;
      metric +=
        Math.max(0, pos[k] - Math.min(...negs) + p.margin) * Math.log((impostors / p.nNegatives) * items.shape[0] + 1);
    }
    const distinct = [...new Set([...batch.items, ...batch.negItems!])];
    const feature =
      tf.sum(tf.square(tf.sub(tf.gather(items, distinct), tf.gather(content, distinct)))).dataSync()[0] *
      p.featureL2Reg *
      (items.shape[0] / distinct.length);
    const x = tf.concat([items, users], 0);
    const centered = tf.sub(x, tf.mean(x, 0));
    const cov = tf.div(tf.matMul(centered, centered, true), x.shape[0]);
    const offDiagonal = tf.sum(tf.square(tf.mul(cov, tf.sub(1, tf.eye(p.embeddingSize))))).dataSync()[0];
    const all = (n: number, m: number) => [
      [...Array(n * m).keys()].map((k) => Math.floor(k / m)),
      [...Array(n * m).keys()].map((k) => k % m),
    ];
    const [us, is] = all(users.shape[0], items.shape[0]);
    return {
      loss: metric + feature + p.covWeight * offDiagonal,
      scores: Array.from(tf.neg(distance(us, is)).dataSync()),
    };
  });
}

describe('maml', () => {
  it('computes the rank-weighted hinge over the closest negative, the feature loss and the covariance loss, as a pair-by-pair reference', () => {
    const { data, features, batch } = smallData(1, { negatives: 2 });
    const model = createBackbone('maml', { data, features, params, rng: createRng(2) });
    expect(model.negativesPerPositive).toBe(2);
    const want = reference(model, features, batch);
    expect(tf.tidy(() => model.loss(batch).total.dataSync()[0])).toBeCloseTo(want.loss, 4);
    allScores(model, data.nUsers).forEach((s, k) => expect(s).toBeCloseTo(want.scores[k], 5));
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('scores users in chunks as one at a time (bit for bit on wasm/cpu; to float rounding on tensorflow, whose GEMM blocking depends on the shape)', () => {
    const { data, features } = smallData(3, { nUsers: 100, nItems: 300, dims: { text: 3 } });
    const model = createBackbone('maml', { data, features, params: {}, rng: createRng(4) });
    const scorer = model.scorer();
    const ids = Int32Array.from({ length: 100 }, (_, u) => u);
    const together = scorer.scoreUsers(ids);
    for (const u of [0, 57, 88, 99]) {
      const alone = scorer.scoreUsers(Int32Array.of(u));
      const inChunk = together.subarray(u * 300, (u + 1) * 300);
      if (isNativeBackend())
        alone.forEach((v, i) => expect(Math.abs(v - inChunk[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(v))));
      else expect(Array.from(alone)).toEqual(Array.from(inChunk));
    }
    scorer.dispose();
    model.dispose();
    tf.dispose(Object.values(features));
  });

  // The wasm pass of npm test (SGFD_BACKEND=wasm) has no native engine to fuse on.
  it.skipIf(['wasm', 'cpu'].includes(process.env['SGFD_BACKEND'] ?? ''))(
    'on the native engine, scores through the fused SgfdMamlScores op as through the stock ops',
    () => {
      expect(isNativeBackend()).toBe(true);
      const { data, features } = smallData(7, { nUsers: 40, nItems: 300, dims: { text: 3 } });
      const model = createBackbone('maml', { data, features, params: {}, rng: createRng(8) });
      const ids = Int32Array.from({ length: 40 }, (_, u) => u);
      expect(customOpsAvailable()).toBe(true);
      const scoreAll = () => {
        const scorer = model.scorer();
        try {
          return scorer.scoreUsers(ids);
        } finally {
          scorer.dispose();
        }
      };
      const fused = scoreAll();
      setCustomOpsEnabled(false);
      let stock: Float32Array;
      try {
        stock = scoreAll();
      } finally {
        setCustomOpsEnabled(true);
      }
      fused.forEach((v, i) => expect(Math.abs(v - stock[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(stock[i]))));
      model.dispose();
      tf.dispose(Object.values(features));
    },
  );

  it('keeps every embedding row within the clip norm after a step', () => {
    const { data, features } = smallData(5);
    const model = createBackbone('maml', { data, features, params: { ...params, clipNorm: 0.4 }, rng: createRng(6) });
    const users = model.weights['user.embedding'];
    tf.tidy(() =>
      users.assign(tf.tensor2d(Array.from({ length: data.nUsers }, (_, u) => (u === 0 ? [0.1, 0.1, 0] : [3, 0, 4])))),
    );
    model.afterStep!();
    const rows = users.arraySync() as number[][];
    expect(rows[0][0]).toBeCloseTo(0.1, 6);
    rows.slice(1).forEach((r) => r.forEach((v, j) => expect(v).toBeCloseTo([0.24, 0, 0.32][j], 6)));
    const items = model.weights['item.embedding'].arraySync() as number[][];
    items.forEach((r) => expect(Math.hypot(...r)).toBeLessThanOrEqual(0.4 + 1e-6));
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('has gradients that match finite differences when a negative is drawn twice (a student in a slot: contract test)', () => {
    const { data, features, batch, rng } = smallData(7, {
      nUsers: 4,
      nItems: 5,
      dims: { image: 3, text: 2 },
      negatives: 2,
    });
    // A wide margin keeps every hinge active and the rank weights constant; a large clip norm stays inactive.
    const model = createBackbone('maml', {
      data,
      features,
      params: { ...params, embeddingSize: 2, margin: 10, clipNorm: 100 },
      rng,
    });
    // A user drew the same negative twice: its gradient must count once (tf.min's would count every tie).
    const negs = batch.negItems!;
    expect([0, 1, 2, 3].some((u) => negs[2 * u] === negs[2 * u + 1])).toBe(true);
    const loss = () => tf.tidy(() => model.loss(batch).total);
    expect(checkGradients(loss, model.variables).worst).toBeLessThanOrEqual(1);
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('refuses a batch without its number of negatives per positive', () => {
    const { data, features, batch } = smallData(8, { negatives: 1 });
    const model = createBackbone('maml', { data, features, params, rng: createRng(9) });
    expect(() => model.loss(batch)).toThrow(/2 negative items per positive/);
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it("validates its parameters with the authors' defaults", () => {
    const { data, features } = smallData(14);
    const model = createBackbone('maml', { data, features, params: {}, rng: createRng(15) });
    expect(model.projectionDim).toBe(64);
    expect(model.negativesPerPositive).toBe(4);
    model.dispose();
    expect(() => createBackbone('maml', { data, features, params: { margin: 0 }, rng: createRng(16) })).toThrow(
      ConfigError,
    );
    tf.dispose(Object.values(features));
  });
});
