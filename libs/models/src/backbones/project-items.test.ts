import { createRng, initBackend, isNativeBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { LinearProjection, type Projection } from '../projection';
import { Student } from '../sgfd/student';
import { createBackbone } from '../registry';
import { smallData } from '../test-support/backbone-fixtures';
import { projectItemRows } from './shared';
import './index';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

/** The slot's rows for `ids`, a loss on them, and the loss's gradients, with the given every-item share. */
function run(slot: Projection, source: tf.Tensor2D, ids: number[], share: number) {
  const items = tf.tensor1d(ids, 'int32');
  const weights = Object.values(slot.weights);
  const rows = tf.tidy(() => projectItemRows(slot, source, items, share).features);
  const { grads } = tf.variableGrads(
    () => tf.tidy(() => tf.sum(tf.square(tf.sin(projectItemRows(slot, source, items, share).features)))),
    weights,
  );
  const raw = tf.tidy(() => projectItemRows(slot, source, items, share).raw);
  const out = {
    rows: Array.from(rows.dataSync()),
    raw: Array.from(raw.dataSync()),
    grads: weights.map((w) => Array.from(grads[w.name].dataSync())),
  };
  tf.dispose([items, rows, raw, ...Object.values(grads)]);
  return out;
}

describe('projectItemRows', () => {
  it('gives the same rows, raw rows and weight gradients gathered row by row as projected for every item', () => {
    const rng = createRng(3);
    const source = tf.tensor2d(
      Float32Array.from({ length: 12 * 7 }, () => rng.normal()),
      [12, 7],
    );
    for (const slot of [new LinearProjection(7, 4, rng), new Student(7, 4, 0.01, rng)]) {
      const ids = [5, 0, 11, 3];
      const gathered = run(slot, source, ids, 2);
      const everyItem = run(slot, source, ids, 0);
      everyItem.rows.forEach((v, k) => expect(v).toBeCloseTo(gathered.rows[k], 5));
      expect(everyItem.raw).toEqual(gathered.raw);
      expect(gathered.raw.slice(0, 7)).toEqual(Array.from(source.dataSync().slice(35, 42)));
      everyItem.grads.forEach((g, w) => g.forEach((v, k) => expect(v).toBeCloseTo(gathered.grads[w][k], 4)));
      slot.dispose();
    }
    source.dispose();
  });

  it('projects every item once the batch holds the given share of the catalogue', () => {
    const rng = createRng(4);
    const source = tf.tensor2d(
      Float32Array.from({ length: 10 * 3 }, () => rng.normal()),
      [10, 3],
    );
    const slot = new LinearProjection(3, 2, rng);
    const seen: number[] = [];
    const spy: Projection = {
      ...slot,
      kind: slot.kind,
      inDim: 3,
      outDim: 2,
      weights: slot.weights,
      dispose: () => undefined,
      apply: (x) => (seen.push(x.shape[0]), slot.apply(x)),
    };
    tf.tidy(() => {
      projectItemRows(spy, source, tf.tensor1d([1, 2, 3, 4, 5], 'int32'), 0.6);
      projectItemRows(spy, source, tf.tensor1d([1, 2, 3, 4, 5, 6], 'int32'), 0.6);
    });
    expect(seen).toEqual([5, 10]);
    slot.dispose();
    source.dispose();
  });

  it("is what a backbone's slots run: the batch's gathered rows on the native engine, every item past 65 % on wasm", () => {
    const small = smallData(5, { nUsers: 5, nItems: 6, dims: { text: 3 } });
    const model = createBackbone('vbpr', { data: small.data, features: small.features, params: {}, rng: small.rng });
    const slot = new LinearProjection(3, model.projectionDim, small.rng);
    const seen: number[] = [];
    model.setProjection('text', {
      kind: slot.kind,
      inDim: 3,
      outDim: slot.outDim,
      weights: slot.weights,
      dispose: () => slot.dispose(),
      apply: (x) => (seen.push(x.shape[0]), slot.apply(x)),
    });
    const distinct = new Set([...small.batch.items, ...(small.batch.negItems ?? [])]).size;
    expect(distinct).toBeGreaterThanOrEqual(0.65 * 6);
    expect(distinct).toBeLessThan(6);
    tf.tidy(() => {
      model.loss(small.batch);
    });
    expect(seen).toEqual([isNativeBackend() ? distinct : 6]);
    model.dispose();
    tf.dispose(Object.values(small.features));
  });
});
