import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backbone, FeatureTensors } from '../backbone';
import { symmetricEdgeWeights, userItemEdges } from '../graph/adjacency';
import { weightedSampleWithoutReplacement } from '../graph/edge-sampling';
import { knnGraph } from '../graph/knn';
import { KnnGraphSet } from '../graph/knn-source';
import { createBackbone, knnGraphSpecs } from '../registry';
import {
  allScores,
  bipartiteDense,
  bprDense,
  cosineMatrix,
  keepTopK,
  smallData,
  symmetricNormalizeDense,
} from '../test-support/backbone-fixtures';
import './index';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-freedom-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const params = {
  embeddingSize: 3,
  knnK: 3,
  nMmLayers: 1,
  nUiLayers: 2,
  mmImageWeight: 0.1,
  dropout: 0.5,
  regWeight: 0.3,
};

/** FREEDOM's loss and scores with dense matrices, on the user-item matrix `r` (the kept edges). */
function reference(
  model: Backbone,
  features: FeatureTensors,
  r: number[][],
  batch: ReturnType<typeof smallData>['batch'],
) {
  return tf.tidy(() => {
    const w = model.weights;
    const nUsers = r.length;
    const a = bipartiteDense(tf.tensor2d(r));
    const deg = tf.add(tf.sum(a, 1), 1e-7);
    const adj = tf.mul(tf.mul(a, tf.expandDims(tf.rsqrt(deg), 1)), tf.expandDims(tf.rsqrt(deg), 0));
    const knnOnes = (x: tf.Tensor2D) =>
      symmetricNormalizeDense(
        tf.cast(tf.notEqual(keepTopK(cosineMatrix(x), params.knnK), 0), 'float32') as tf.Tensor2D,
      );
    const itemGraph = tf.add(tf.mul(knnOnes(features.image!), 0.1), tf.mul(knnOnes(features.text!), 0.9));
    const h = tf.matMul(itemGraph, w['item.embedding']);
    const ego = tf.concat([w['user.embedding'], w['item.embedding']], 0);
    const e1 = tf.matMul(adj, ego);
    const e2 = tf.matMul(adj, e1);
    const mean = tf.div(tf.addN([ego, e1, e2]), 3);
    const users = tf.slice(mean, [0, 0], [nUsers, -1]) as tf.Tensor2D;
    const items = tf.add(tf.slice(mean, [nUsers, 0], [-1, -1]), h) as tf.Tensor2D;
    const ids = (a: Int32Array) => tf.tensor1d(a, 'int32');
    const u = tf.gather(users, ids(batch.users));
    const proj = (m: 'image' | 'text') =>
      tf.add(tf.matMul(features[m]!, w[`projection.${m}.kernel`]), w[`projection.${m}.bias`]) as tf.Tensor2D;
    const modal = ['image', 'text'].map((m) =>
      bprDense(u, tf.gather(proj(m as 'image'), ids(batch.items)), tf.gather(proj(m as 'image'), ids(batch.negItems!))),
    );
    const loss = tf.add(
      bprDense(u, tf.gather(items, ids(batch.items)), tf.gather(items, ids(batch.negItems!))),
      tf.mul(tf.addN(modal), params.regWeight),
    );
    return { loss: loss.dataSync()[0], scores: Array.from(tf.matMul(users, items, false, true).dataSync()) };
  });
}

describe('freedom', () => {
  it('computes BPR + reg_weight * (BPR of the projected text and image) over the full graph, as a dense reference', () => {
    const { data, features, batch, interactions } = smallData(1);
    const model = createBackbone('freedom', { data, features, params, rng: createRng(2) });
    const want = reference(model, features, interactions, batch);
    const got = tf.tidy(() => model.loss(batch).total.dataSync()[0]);
    expect(got).toBeCloseTo(want.loss, 5);
    allScores(model, data.nUsers).forEach((s, k) => expect(s).toBeCloseTo(want.scores[k], 5));
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('prunes the user-item graph each epoch, keeping floor(E (1 - dropout)) edges drawn by 1/sqrt(d_u d_i), renormalised; scores use the full graph', () => {
    const { data, features, batch, interactions } = smallData(3, { nUsers: 6, nItems: 7 });
    const model = createBackbone('freedom', { data, features, params, rng: createRng(4) });
    const scoresBefore = allScores(model, data.nUsers);
    model.onEpochStart!(1, createRng(5));
    // The same draw as the model's, on the same edge weights.
    const edges = userItemEdges(data.trainCsr, data.nUsers, data.nItems);
    const kept = weightedSampleWithoutReplacement(
      symmetricEdgeWeights(edges),
      Math.floor(edges.users.length * 0.5),
      createRng(5),
    );
    const r = interactions.map((row) => row.map(() => 0));
    for (const e of kept) r[edges.users[e]][edges.items[e]] = 1;
    const want = reference(model, features, r, batch);
    expect(tf.tidy(() => model.loss(batch).total.dataSync()[0])).toBeCloseTo(want.loss, 5);
    expect(want.loss).not.toBeCloseTo(reference(model, features, interactions, batch).loss, 3);
    expect(allScores(model, data.nUsers)).toEqual(scoresBefore);
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('uses the kNN graphs it is given (stored beside the snapshot) instead of computing them', () => {
    const { data, features } = smallData(7);
    const specs = knnGraphSpecs('freedom', { knnK: 3 }, data);
    expect(specs).toEqual([
      { modality: 'image', k: 3, similarity: 'cosine' },
      { modality: 'text', k: 3, similarity: 'cosine' },
    ]);
    const own = createBackbone('freedom', { data, features, params: { knnK: 3 }, rng: createRng(8) });
    const same = new KnnGraphSet();
    const other = new KnnGraphSet();
    for (const spec of specs) {
      const g = knnGraph(features[spec.modality]!, 3);
      same.set(spec, g);
      other.set(spec, { ...g, indices: g.indices.map((i) => (i + 1) % data.nItems) });
    }
    const given = createBackbone('freedom', {
      data,
      features,
      params: { knnK: 3 },
      rng: createRng(8),
      knnGraphs: same,
    });
    const shifted = createBackbone('freedom', {
      data,
      features,
      params: { knnK: 3 },
      rng: createRng(8),
      knnGraphs: other,
    });
    expect(allScores(given, data.nUsers)).toEqual(allScores(own, data.nUsers));
    expect(allScores(shifted, data.nUsers)).not.toEqual(allScores(own, data.nUsers));
    [own, given, shifted].forEach((m) => m.dispose());
    tf.dispose(Object.values(features));
  });

  it('validates its parameters with MMRec defaults', () => {
    const { data, features } = smallData(13);
    const model = createBackbone('freedom', { data, features, params: {}, rng: createRng(14) });
    expect(model.projectionDim).toBe(64);
    expect(model.projectionSlots).toEqual(['image', 'text']);
    model.dispose();
    expect(() => createBackbone('freedom', { data, features, params: { dropout: 1 }, rng: createRng(14) })).toThrow(
      ConfigError,
    );
    expect(() => createBackbone('freedom', { data, features, params: { knn: 5 }, rng: createRng(14) })).toThrow(
      ConfigError,
    );
    tf.dispose(Object.values(features));
  });
});
