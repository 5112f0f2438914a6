import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DatasetError } from '@sgfd/contracts';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackboneData, FeatureTensors } from '../backbone';
import { assignVariables } from '../io/variables-file';
import { createBackbone } from '../registry';
import { Student } from '../sgfd/student';
import { checkGradients } from '@sgfd/tensor/testing';
import './index';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-vbpr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const csr = { indptr: Int32Array.from([0, 1, 2]), indices: Int32Array.from([0, 1]) };
const data: BackboneData = { nUsers: 2, nItems: 3, featureDims: { text: 2 }, trainCsr: csr };
const batch = { users: Int32Array.from([0, 1]), items: Int32Array.from([0, 1]), negItems: Int32Array.from([2, 0]) };
const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('vbpr', () => {
  it('computes BPR + reg_weight * EmbLoss as MMRec on hand-set weights', () => {
    const features: FeatureTensors = {
      text: tf.tensor2d([
        [1, 0],
        [0, 1],
        [2, 1],
      ]),
    };
    const model = createBackbone('vbpr', {
      data,
      features,
      params: { embeddingSize: 1, regWeight: 0.1 },
      rng: createRng(1),
    });
    assignVariables(model.weights, {
      'user.embedding': { shape: [2, 2], data: Float32Array.from([1, 2, 0.5, -1]) },
      'item.embedding': { shape: [3, 1], data: Float32Array.from([0.1, 0.2, -0.3]) },
      'item.featureBias': { shape: [1], data: Float32Array.from([0.5]) },
      'projection.text.kernel': { shape: [2, 1], data: Float32Array.from([1, -1]) },
    });
    // items: i0 = [0.1, 1.5], i1 = [0.2, -0.5], i2 = [-0.3, 1.5]; score differences 3.1 - 2.7 and 0.6 - (-1.45)
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    const bpr = -(Math.log(sigmoid(0.4)) + Math.log(sigmoid(2.05))) / 2;
    const reg = (2.5 + Math.sqrt(2.55) + Math.sqrt(4.6)) / 2;
    tf.tidy(() => {
      const out = model.loss(batch);
      expect(out.parts['vbpr.bpr'].dataSync()[0]).toBeCloseTo(bpr, 5);
      expect(out.parts['vbpr.reg'].dataSync()[0]).toBeCloseTo(reg, 5);
      expect(out.total.dataSync()[0]).toBeCloseTo(bpr + 0.1 * reg, 5);
      expect(values(out.projected.text!.items)).toEqual([0, 1, 2]);
      expect(values(out.projected.text!.features)).toEqual([1, -1, 1]);
    });
    const scorer = model.scorer();
    expect(Array.from(scorer.scoreUsers(Int32Array.from([1])))).toEqual(
      [Math.fround(0.05 - 1.5), Math.fround(0.1 + 0.5), Math.fround(-0.15 - 1.5)].map((v) => expect.closeTo(v, 5)),
    );
    scorer.dispose();
    model.dispose();
    features.text!.dispose();
  });

  it('has gradients that match finite differences, with the linear slot and with a student in it', () => {
    const rng = createRng(2);
    const features: FeatureTensors = {
      text: tf.tensor2d(
        Float32Array.from({ length: 9 }, () => rng.normal()),
        [3, 3],
      ),
      image: tf.tensor2d(
        Float32Array.from({ length: 6 }, () => Math.abs(rng.normal())),
        [3, 2],
      ),
    };
    const twoModal = { ...data, featureDims: { text: 3, image: 2 } };
    const model = createBackbone('vbpr', {
      data: twoModal,
      features,
      params: { embeddingSize: 2, regWeight: 0.5 },
      rng,
    });
    expect(model.projectionSlots).toEqual(['image', 'text']);
    const loss = () => tf.tidy(() => model.loss(batch).total);
    expect(checkGradients(loss, model.variables).worst).toBeLessThanOrEqual(1);
    model.setProjection('text', new Student(3, 2, 0.2, rng));
    expect(Object.keys(model.weights)).toContain('projection.text.bias');
    expect(checkGradients(loss, model.variables).worst).toBeLessThanOrEqual(1);
    expect(() => model.setProjection('image', new Student(2, 3, 0.2, rng))).toThrow(ConfigError);
    model.dispose();
    tf.dispose(Object.values(features));
  });

  it('saves and loads its weights (binary + JSON index) and refuses a mismatching model', async () => {
    const features: FeatureTensors = {
      text: tf.tensor2d([
        [1, 0],
        [0, 1],
        [2, 1],
      ]),
    };
    const make = (seed: number) =>
      createBackbone('vbpr', { data, features, params: { embeddingSize: 4 }, rng: createRng(seed) });
    const a = make(3);
    const b = make(4);
    const scores = (m: typeof a) => {
      const s = m.scorer();
      const out = Array.from(s.scoreUsers(Int32Array.from([0, 1])));
      s.dispose();
      return out;
    };
    expect(scores(b)).not.toEqual(scores(a));
    await a.save(join(dir, 'vbpr'));
    await b.load(join(dir, 'vbpr'));
    expect(scores(b)).toEqual(scores(a));
    b.setProjection('text', new Student(2, 4, 0.2, createRng(5)));
    await expect(b.load(join(dir, 'vbpr'))).rejects.toThrow(DatasetError);
    a.dispose();
    b.dispose();
    features.text!.dispose();
  });

  it('is built through the registry, which validates its parameters', () => {
    const features: FeatureTensors = {
      text: tf.tensor2d([
        [1, 0],
        [0, 1],
        [2, 1],
      ]),
    };
    const ctx = { data, features, rng: createRng(6) };
    const model = createBackbone('vbpr', { ...ctx, params: {} });
    expect(model.projectionDim).toBe(64);
    expect(model.weights['user.embedding'].shape).toEqual([2, 128]);
    model.dispose();
    expect(() => createBackbone('nope', { ...ctx, params: {} })).toThrow(/Unknown backbone 'nope'.*expected .*vbpr/);
    try {
      createBackbone('vbpr', { ...ctx, params: { embeddingSize: -1 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).location.field).toBe('backboneParams.embeddingSize');
    }
    features.text!.dispose();
  });
});
