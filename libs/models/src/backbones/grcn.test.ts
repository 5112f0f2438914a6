import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backbone, FeatureTensors, TrainBatch } from '../backbone';
import { createBackbone } from '../registry';
import { Student } from '../sgfd/student';
import { allScores, bipartiteDense, bprDense, maskedRowSoftmax, smallData } from '../test-support/backbone-fixtures';
import './index';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-grcn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const params = { embeddingSize: 3, latentDim: 2, nRouting: 2, regWeight: 0.5, leakySlope: 0.1 };
const norm = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;

/** GRCN with dense matrices and masked softmaxes: node representations and the loss. */
function reference(model: Backbone, features: FeatureTensors, r: number[][], batch: TrainBatch, p = params) {
  return tf.tidy(() => {
    const w = model.weights;
    const nUsers = r.length;
    const rm = tf.tensor2d(r);
    const graph = bipartiteDense(rm);
    const reps: tf.Tensor2D[] = [];
    const edgeWeights: tf.Tensor2D[] = [];
    (['image', 'text'] as const).forEach((m, k) => {
      const content = tf.add(
        tf.matMul(features[m]!, w[`projection.${m}.kernel`]),
        w[`projection.${m}.bias`],
      ) as tf.Tensor2D;
      const c = norm(tf.leakyRelu(content, p.leakySlope));
      let pref = norm(w[`preference.${m}`] as tf.Tensor2D);
      for (let t = 0; t < p.nRouting; t++) {
        const a = maskedRowSoftmax(tf.matMul(pref, c, false, true), rm);
        pref = norm(tf.add(pref, tf.matMul(a, c)));
      }
      const x = tf.concat([pref, c], 0) as tf.Tensor2D;
      const alpha = maskedRowSoftmax(tf.matMul(x, x, false, true), graph);
      reps.push(tf.add(x, tf.matMul(alpha, x)) as tf.Tensor2D);
      // Edge (target i <- source j) scaled by the source's confidence.
      const conf = tf.slice(w.confidence, [0, k], [-1, 1]).reshape([1, -1]);
      edgeWeights.push(tf.mul(alpha, conf) as tf.Tensor2D);
    });
    const a = tf.mul(tf.relu(tf.maximum(edgeWeights[0], edgeWeights[1])), graph) as tf.Tensor2D;
    const x = norm(w['id.embedding'] as tf.Tensor2D);
    const h1 = tf.matMul(a, x);
    const nodes = tf.concat([tf.addN([x, h1, tf.matMul(a, h1)]), ...reps], 1) as tf.Tensor2D;
    const ids = (v: Int32Array, offset = 0) =>
      tf.tensor1d(
        Int32Array.from(v, (i) => i + offset),
        'int32',
      );
    const u = tf.gather(nodes, ids(batch.users));
    const bpr = bprDense(u, tf.gather(nodes, ids(batch.items, nUsers)), tf.gather(nodes, ids(batch.negItems!, nUsers)));
    const idRows = tf.concat(
      [tf.gather(w['id.embedding'], ids(batch.users)), tf.gather(w['id.embedding'], ids(batch.users))],
      0,
    );
    const itemRows = tf.concat(
      [
        tf.gather(w['id.embedding'], ids(batch.items, nUsers)),
        tf.gather(w['id.embedding'], ids(batch.negItems!, nUsers)),
      ],
      0,
    );
    const prefReg = (['image', 'text'] as const).map((m) =>
      tf.mean(tf.square(tf.gather(w[`preference.${m}`], ids(batch.users)))),
    );
    const reg = tf.addN([tf.mean(tf.add(tf.square(idRows), tf.square(itemRows))), ...prefReg]);
    const users = tf.slice(nodes, [0, 0], [nUsers, -1]);
    const items = tf.slice(nodes, [nUsers, 0], [-1, -1]);
    return {
      loss: tf.add(bpr, tf.mul(reg, p.regWeight)).dataSync()[0],
      scores: Array.from(tf.matMul(users, items, false, true).dataSync()),
    };
  });
}

describe('grcn', () => {
  it('routes preferences, weights edges by attention x confidence and propagates ids, as a dense reference', () => {
    const { data, features, batch, interactions } = smallData(1);
    // Widths of 4 take the WebAssembly SIMD kernels (the gradient test below runs the JavaScript loops).
    const model = createBackbone('grcn', {
      data,
      features,
      params: { ...params, embeddingSize: 4, latentDim: 4 },
      rng: createRng(2),
    });
    // Confidences of both signs, so that the max over modalities and the ReLU pruning both act.
    tf.tidy(() =>
      model.weights.confidence.assign(tf.randomUniform(model.weights.confidence.shape, -2, 2, 'float32', 3)),
    );
    const want = reference(model, features, interactions, batch);
    expect(tf.tidy(() => model.loss(batch).total.dataSync()[0])).toBeCloseTo(want.loss, 5);
    allScores(model, data.nUsers).forEach((s, k) => expect(s).toBeCloseTo(want.scores[k], 5));
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('passes the projected rows of its batch items through the slots (a student in one; gradients: contract test)', () => {
    const { data, features, batch, rng } = smallData(4, { nUsers: 4, nItems: 5, dims: { image: 3, text: 2 } });
    const model = createBackbone('grcn', { data, features, params: { ...params, embeddingSize: 2 }, rng });
    model.setProjection('image', new Student(3, 2, 0.2, rng));
    tf.tidy(() => {
      const { projected } = model.loss(batch);
      expect(Array.from(projected.image!.items.dataSync())).toEqual([...new Set([...batch.items, ...batch.negItems!])]);
      expect(projected.image!.features.shape).toEqual([projected.image!.items.shape[0], 2]);
      expect(projected.text!.raw.arraySync()).toEqual(tf.gather(features.text!, projected.text!.items).arraySync());
    });
    model.dispose();
    tf.dispose(Object.values(features));
  });
  it('validates its parameters with MMRec defaults and runs on a single modality', () => {
    const { data, features, batch } = smallData(10, { dims: { text: 3 } });
    const model = createBackbone('grcn', { data, features, params: {}, rng: createRng(11) });
    expect(model.projectionDim).toBe(64);
    expect(model.projectionSlots).toEqual(['text']);
    expect(Number.isFinite(tf.tidy(() => model.loss(batch).total.dataSync()[0]))).toBe(true);
    model.dispose();
    expect(() => createBackbone('grcn', { data, features, params: { nRouting: -1 }, rng: createRng(12) })).toThrow(
      ConfigError,
    );
    tf.dispose(Object.values(features));
  });
});
