import { createRng, initBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackboneData, FeatureTensors } from '../backbone';
import { assignVariables } from '../io/variables-file';
import { cosineSimilarityRows } from '../ops';
import { createBackbone } from '../registry';
import { checkGradients } from '@sgfd/tensor/testing';
import { normalizedAdjacency } from './bm3';
import './index';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

// user 0 saw items 0 and 1, user 1 saw item 1; item 2 is isolated.
const csr = { indptr: Int32Array.from([0, 2, 3]), indices: Int32Array.from([0, 1, 1]) };
const data: BackboneData = { nUsers: 2, nItems: 3, featureDims: { text: 3 }, trainCsr: csr };
const batch = { users: Int32Array.from([0, 0, 1]), items: Int32Array.from([0, 1, 1]), negItems: null };

function dense(n: number, a: ReturnType<typeof normalizedAdjacency>): number[][] {
  const out = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let r = 0; r < n; r++) for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) out[r][a.indices[p]] = a.values![p];
  return out;
}

describe('bm3', () => {
  it('normalises the user-item graph symmetrically: 1 / sqrt(deg_u deg_i)', () => {
    const a = dense(5, normalizedAdjacency(csr, 2, 3));
    const expected = [
      [0, 0, 1 / Math.sqrt(2), 0.5, 0],
      [0, 0, 0, 1 / Math.sqrt(2), 0],
      [1 / Math.sqrt(2), 0, 0, 0, 0],
      [0.5, 1 / Math.sqrt(2), 0, 0, 0],
      [0, 0, 0, 0, 0],
    ];
    a.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(expected[r][c], 6)));
  });

  it('scores with the predictor over LightGCN layer means plus the item id residual', () => {
    const features: FeatureTensors = {
      text: tf.tensor2d([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]),
    };
    const model = createBackbone('bm3', {
      data,
      features,
      params: { embeddingSize: 1, nLayers: 1 },
      rng: createRng(1),
    });
    expect(model.usesNegatives).toBe(false);
    const U = [1, 2];
    const I = [3, -1, 5];
    assignVariables(model.weights, {
      'user.embedding': { shape: [2, 1], data: Float32Array.from(U) },
      'item.embedding': { shape: [3, 1], data: Float32Array.from(I) },
      'predictor.kernel': { shape: [1, 1], data: Float32Array.from([2]) },
      'predictor.bias': { shape: [1], data: Float32Array.from([0.5]) },
      'projection.text.kernel': { shape: [3, 1], data: Float32Array.from([1, 1, 1]) },
      'projection.text.bias': { shape: [1], data: Float32Array.from([0]) },
    });
    const s = Math.SQRT1_2;
    // layer 1 = A [U; I]
    const u1 = [s * I[0] + 0.5 * I[1], s * I[1]];
    const i1 = [s * U[0], 0.5 * U[0] + s * U[1], 0];
    const users = U.map((u, k) => 2 * ((u + u1[k]) / 2) + 0.5);
    const items = I.map((v, k) => 2 * ((v + i1[k]) / 2 + v) + 0.5);
    const scorer = model.scorer();
    const scores = Array.from(scorer.scoreUsers(Int32Array.from([1, 0])));
    expect(scores).toEqual(
      [...items.map((v) => users[1] * v), ...items.map((v) => users[0] * v)].map((v) => expect.closeTo(v, 4)),
    );
    scorer.dispose();
    model.dispose();
    features.text!.dispose();
  });

  it('propagates gradients through the sparse LightGCN layers (finite differences of the EmbLoss term)', () => {
    const rng = createRng(2);
    const features: FeatureTensors = {
      text: tf.tensor2d(
        Float32Array.from({ length: 9 }, () => rng.normal()),
        [3, 3],
      ),
    };
    const model = createBackbone('bm3', { data, features, params: { embeddingSize: 2, nLayers: 2, dropout: 0 }, rng });
    // The cosine terms have stop-gradient targets, which finite differences would move too; the
    // regulariser reads the full propagated matrices, so it checks the graph path on its own.
    const embeddings = [model.weights['user.embedding'], model.weights['item.embedding']];
    const check = checkGradients(() => tf.tidy(() => model.loss(batch).parts['bm3.reg']), embeddings);
    expect(check.worst).toBeLessThanOrEqual(1);
    expect(check.checked).toBe(10);
    model.dispose();
    features.text!.dispose();
  });

  it('stops the gradient at the target views: only the online branch is differentiated', () => {
    const rng = createRng(3);
    const features: FeatureTensors = {
      text: tf.tensor2d(
        Float32Array.from({ length: 9 }, () => rng.normal()),
        [3, 3],
      ),
    };
    const model = createBackbone('bm3', {
      data,
      features,
      params: { embeddingSize: 2, nLayers: 0, dropout: 0, regWeight: 0, clWeight: 0 },
      rng,
    });
    const w = model.weights;
    const vars = [w['user.embedding'], w['item.embedding'], w['predictor.kernel'], w['predictor.bias']];
    const { grads } = tf.variableGrads(() => model.loss(batch).total, vars);
    // Reference: with no layers u = U[users], i = 2 I[items] (layer mean + residual); targets are constants.
    const uIds = tf.tensor1d(batch.users, 'int32');
    const iIds = tf.tensor1d(batch.items, 'int32');
    const uTarget = tf.tidy(() => tf.gather(w['user.embedding'], uIds).clone());
    const iTarget = tf.tidy(() => tf.mul(tf.gather(w['item.embedding'], iIds), 2));
    const reference = tf.variableGrads(() => {
      const predict = (x: tf.Tensor) =>
        tf.add(tf.matMul(x as tf.Tensor2D, w['predictor.kernel'] as tf.Tensor2D), w['predictor.bias']) as tf.Tensor2D;
      const u = tf.gather(w['user.embedding'], uIds) as tf.Tensor2D;
      const i = tf.mul(tf.gather(w['item.embedding'], iIds), 2) as tf.Tensor2D;
      const ui = tf.sub(1, tf.mean(cosineSimilarityRows(predict(u), iTarget as tf.Tensor2D)));
      const iu = tf.sub(1, tf.mean(cosineSimilarityRows(predict(i), uTarget as tf.Tensor2D)));
      return tf.add(ui, iu) as tf.Scalar;
    }, vars);
    for (const v of vars) {
      expect(Array.from(grads[v.name].dataSync())).toEqual(
        Array.from(reference.grads[v.name].dataSync()).map((g) => expect.closeTo(g, 5)),
      );
    }
    tf.dispose([
      ...Object.values(grads),
      ...Object.values(reference.grads),
      reference.value,
      uIds,
      iIds,
      uTarget,
      iTarget,
    ]);
    model.dispose();
    features.text!.dispose();
  });
});
