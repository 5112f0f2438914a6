import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backbone, FeatureTensors, TrainBatch } from '../backbone';
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
  dir = await mkdtemp(join(tmpdir(), 'sgfd-lattice-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const params = {
  embeddingSize: 3,
  featEmbedDim: 2,
  knnK: 3,
  lambdaCoeff: 0.7,
  nLayers: 1,
  nUiLayers: 2,
  regWeight: 0.2,
};
const norm = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;

/** LATTICE with dense matrices: the loss with the item graph built from the current weights, and the scores. */
function reference(model: Backbone, features: FeatureTensors, r: number[][], batch: TrainBatch, p = params) {
  return tf.tidy(() => {
    const w = model.weights;
    const nUsers = r.length;
    const weights = tf.unstack(tf.softmax(w.modalWeight));
    const modalities = ['image', 'text'] as const;
    const original = modalities.map((m) => symmetricNormalizeDense(keepTopK(cosineMatrix(features[m]!), p.knnK)));
    const learned = modalities.map((m) => {
      const projected = tf.add(
        tf.matMul(features[m]!, w[`projection.${m}.kernel`]),
        w[`projection.${m}.bias`],
      ) as tf.Tensor2D;
      return keepTopK(cosineMatrix(projected), p.knnK);
    });
    const mixedLearned = symmetricNormalizeDense(
      tf.add(tf.mul(learned[0], weights[0]), tf.mul(learned[1], weights[1])) as tf.Tensor2D,
    );
    const mixedOriginal = tf.add(tf.mul(original[0], weights[0]), tf.mul(original[1], weights[1]));
    const itemGraph = tf.add(
      tf.mul(mixedLearned, 1 - p.lambdaCoeff),
      tf.mul(mixedOriginal, p.lambdaCoeff),
    ) as tf.Tensor2D;
    const a = tf.add(bipartiteDense(tf.tensor2d(r)), tf.eye(nUsers + r[0].length));
    const adj = tf.div(a, tf.sum(a, 1, true)) as tf.Tensor2D;
    const h = tf.matMul(itemGraph, w['item.embedding']) as tf.Tensor2D;
    const ego = tf.concat([w['user.embedding'], w['item.embedding']], 0);
    const e1 = tf.matMul(adj, ego);
    const mean = tf.div(tf.addN([ego, e1, tf.matMul(adj, e1)]), 3);
    const users = tf.slice(mean, [0, 0], [nUsers, -1]) as tf.Tensor2D;
    const items = tf.add(tf.slice(mean, [nUsers, 0], [-1, -1]), norm(h)) as tf.Tensor2D;
    const ids = (v: Int32Array) => tf.tensor1d(v, 'int32');
    const [u, pos, neg] = [
      tf.gather(users, ids(batch.users)),
      tf.gather(items, ids(batch.items)),
      tf.gather(items, ids(batch.negItems!)),
    ];
    const reg = tf.div(
      tf.addN([tf.sum(tf.square(u)), tf.sum(tf.square(pos)), tf.sum(tf.square(neg))]),
      2 * batch.users.length,
    );
    return {
      loss: tf.add(bprDense(u, pos, neg), tf.mul(reg, p.regWeight)).dataSync()[0],
      scores: Array.from(tf.matMul(users, items, false, true).dataSync()),
    };
  });
}

const lossOf = (model: Backbone, batch: TrainBatch) => tf.tidy(() => model.loss(batch).total.dataSync()[0]);

describe('lattice', () => {
  it('mixes learned and original kNN item graphs with softmax modality weights, as a dense reference', () => {
    const { data, features, batch, interactions } = smallData(1, { nItems: 7 });
    // Widths of 4 take the WebAssembly SIMD kernels (the gradient test below runs the JavaScript loops).
    const wide = { ...params, embeddingSize: 4, featEmbedDim: 4 };
    const model = createBackbone('lattice', { data, features, params: wide, rng: createRng(2) });
    tf.tidy(() => model.weights.modalWeight.assign(tf.tensor1d([0.2, 0.9])));
    const want = reference(model, features, interactions, batch, wide);
    model.onEpochStart!(1, createRng(0));
    expect(lossOf(model, batch)).toBeCloseTo(want.loss, 5);
    allScores(model, data.nUsers).forEach((s, k) => expect(s).toBeCloseTo(want.scores[k], 5));
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('rebuilds the learned graph in the first batch of each epoch (with gradients to the projections) and keeps it, detached, for the rest', () => {
    const { data, features, batch, interactions } = smallData(3, { nItems: 7 });
    const model = createBackbone('lattice', { data, features, params, rng: createRng(4) });
    const w = model.weights;
    const gradsOf = () => {
      const { value, grads } = tf.variableGrads(() => model.loss(batch).total, model.variables);
      const names = Object.entries(w)
        .filter(([, v]) => grads[v.name])
        .map(([n]) => n);
      tf.dispose([value, ...Object.values(grads)]);
      return names;
    };
    model.onEpochStart!(1, createRng(0));
    expect(gradsOf()).toEqual(
      expect.arrayContaining(['projection.image.kernel', 'projection.text.bias', 'modalWeight', 'item.embedding']),
    );
    expect(gradsOf()).not.toContain('projection.image.kernel');
    expect(gradsOf()).not.toContain('modalWeight');
    const kept = lossOf(model, batch);
    tf.tidy(() => w['projection.text.kernel'].assign(tf.mul(w['projection.text.kernel'], -3)));
    expect(lossOf(model, batch)).toBe(kept);
    model.onEpochStart!(2, createRng(0));
    const rebuilt = lossOf(model, batch);
    expect(rebuilt).not.toBe(kept);
    expect(rebuilt).toBeCloseTo(reference(model, features, interactions, batch).loss, 5);
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('computes the projected rows SGFD reads only when they are read', () => {
    const { data, features, batch } = smallData(6);
    const model = createBackbone('lattice', { data, features, params, rng: createRng(7) });
    model.onEpochStart!(1, createRng(0));
    lossOf(model, batch);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const out = model.loss(batch);
      const inLoss = tf.memory().numTensors;
      const rows = out.projected.text!;
      expect(tf.memory().numTensors).toBeGreaterThan(inLoss);
      expect(out.projected.text).toBe(rows);
      expect(Array.from(rows.items.dataSync())).toEqual([...new Set([...batch.items, ...batch.negItems!])]);
      expect(rows.features.shape).toEqual([rows.items.shape[0], 2]);
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('validates its parameters with MMRec defaults and asks for one kNN graph per modality', () => {
    const { data, features } = smallData(12);
    const model = createBackbone('lattice', { data, features, params: {}, rng: createRng(13) });
    expect(model.projectionDim).toBe(64);
    expect(knnGraphSpecs('lattice', {}, data).map((s) => [s.modality, s.k])).toEqual([
      ['image', 10],
      ['text', 10],
    ]);
    model.dispose();
    expect(() => createBackbone('lattice', { data, features, params: { lambdaCoeff: 2 }, rng: createRng(14) })).toThrow(
      ConfigError,
    );
    tf.dispose(Object.values(features));
  });
});
