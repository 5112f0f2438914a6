// The contract every registered backbone keeps, checked over the registry: a backbone added with one
// registry line is covered here without editing this file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backbone } from '../backbone';
import { createBackbone, gradientCheckSpec, registeredBackbones } from '../registry';
import { Student } from '../sgfd/student';
import {
  allScores,
  expectLeakFreeTraining,
  expectSaveLoadRoundTrip,
  smallData,
  type SmallData,
} from '../test-support/backbone-fixtures';
import { checkGradients } from '@sgfd/tensor/testing';
import './index';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-backbone-contract-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DIMS = { image: 3, text: 2 };

/** Small data whose batch has as many negatives per positive as the backbone asks for. */
function dataFor(name: string, seed: number, params: Record<string, unknown> = {}): SmallData {
  const probe = smallData(seed, { dims: DIMS });
  const model = createBackbone(name, { data: probe.data, features: probe.features, params, rng: createRng(seed) });
  const negatives = model.negativesPerPositive ?? 1;
  model.dispose();
  tf.dispose(Object.values(probe.features));
  return smallData(seed, { dims: DIMS, negatives });
}

function withModel(name: string, small: SmallData, params: Record<string, unknown>, body: (m: Backbone) => void): void {
  const model = createBackbone(name, { data: small.data, features: small.features, params, rng: small.rng });
  try {
    body(model);
  } finally {
    model.dispose();
    tf.dispose(Object.values(small.features));
  }
}

describe.each(registeredBackbones())('backbone contract: %s', (name) => {
  it('has a finite loss with finite named parts, and scores every user for every item', () => {
    const small = dataFor(name, 1);
    withModel(name, small, {}, (model) => {
      model.onEpochStart?.(1, small.rng);
      tf.tidy(() => {
        const { total, parts } = model.loss(small.batch);
        expect(total.shape).toEqual([]);
        expect(Number.isFinite(total.dataSync()[0])).toBe(true);
        for (const [part, value] of Object.entries(parts))
          expect(Number.isFinite(value.dataSync()[0]), part).toBe(true);
      });
      const scores = allScores(model, small.data.nUsers);
      expect(scores).toHaveLength(small.data.nUsers * small.data.nItems);
      expect(scores.every(Number.isFinite)).toBe(true);
    });
  });

  it('has gradients that match finite differences, with its own slots and with a student in a slot', () => {
    const spec = gradientCheckSpec(name);
    const params = spec.params ?? {};
    const small = dataFor(name, 2, params);
    withModel(name, small, params, (model) => {
      if (!spec.epochStartPerProbe) model.onEpochStart?.(1, small.rng);
      const loss = () => {
        if (spec.epochStartPerProbe) model.onEpochStart?.(1, small.rng);
        return tf.tidy(() => {
          const { total, parts } = model.loss(small.batch);
          return spec.part ? parts[spec.part]! : total;
        });
      };
      expect(checkGradients(loss, model.variables).worst).toBeLessThanOrEqual(1);
      const slot = model.projectionSlots[0]!;
      model.setProjection(slot, new Student(DIMS[slot], model.projectionDim, 0.2, small.rng));
      const check = checkGradients(loss, model.variables);
      expect(check.worst).toBeLessThanOrEqual(1);
      expect(check.checked).toBeGreaterThan(0);
    });
  });

  it('keeps the tensor count flat across training steps, epochs and scoring', () => {
    const small = dataFor(name, 3);
    const epochs = createBackbone(name, { ...small, params: {} });
    const hasEpochs = epochs.onEpochStart !== undefined;
    epochs.dispose();
    expectLeakFreeTraining(name, small, { epochs: hasEpochs });
  });

  it('saves and loads its weights (same scores after a round trip)', async () => {
    await expectSaveLoadRoundTrip(name, dataFor(name, 4), dir, [5, 6]);
  });
});
