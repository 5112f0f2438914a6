import { createScorer } from '@sgfd/serving';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, registeredBackbones } from '../registry';
import { allScores, smallData } from '../test-support/backbone-fixtures';
import './index';

const params: Record<string, Record<string, unknown>> = {
  lattice: { knnK: 3 },
  freedom: { knnK: 3 },
  maml: { hiddenDim: 8, attentionExpansion: 2, embeddingSize: 4, featureDim: 4 },
};

describe('representations', () => {
  beforeAll(() => initBackend());
  // Every registered backbone: a new one must say how it scores from its representations.
  it.each(registeredBackbones())(
    '%s: scoring from the representations alone gives the backbone scorer scores, without leaking tensors',
    async (name: string) => {
      const { data, features } = smallData(11, { nUsers: 7, nItems: 9, dims: { image: 6, text: 5 } });
      const model = createBackbone(name, { data, features, params: params[name] ?? {}, rng: createRng(3) });
      try {
        const expected = allScores(model, data.nUsers);
        const before = tf.memory().numTensors;
        const representations = model.representations();
        expect(tf.memory().numTensors).toBe(before);
        expect(representations.form).toBe(name === 'maml' ? 'maml-attention' : 'dot');
        expect(representations.users.rows).toBe(data.nUsers);
        expect(representations.items.rows).toBe(data.nItems);
        const scorer = await createScorer(representations);
        const row = new Float32Array(data.nItems);
        for (let u = 0; u < data.nUsers; u++) {
          scorer.scoreUser(u, row);
          for (let i = 0; i < data.nItems; i++) {
            const want = expected[u * data.nItems + i]!;
            expect(Math.abs(row[i]! - want), `user ${u} item ${i}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
          }
        }
      } finally {
        model.dispose();
        tf.dispose(Object.values(features));
      }
    },
  );
});
