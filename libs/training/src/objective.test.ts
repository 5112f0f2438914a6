import { RunConfigSchema, type SgfdMode } from '@sgfd/contracts';
import { backboneData, createBackbone, disposeFeatures, featureTensors } from '@sgfd/models';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildObjective } from './objective';
import { requireCategories } from './requirements';
import { tinyDataset } from './test-support/datasets';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

describe('buildObjective', () => {
  it("has the backbone project the batch's gathered raw rows while joint SGFD's teacher reads them, and only then", async () => {
    const dataset = await tinyDataset();
    for (const mode of ['off', 'control', 'joint'] as SgfdMode[]) {
      const config = RunConfigSchema.parse({ backbone: 'vbpr', sgfd: { mode } });
      const cats = requireCategories(dataset, config);
      const data = backboneData(dataset);
      const features = featureTensors(dataset);
      const categories = tf.tensor1d(cats.categories, 'int32');
      const rng = createRng(1);
      const backbone = createBackbone('vbpr', { data, features, params: {}, rng });
      const objective = buildObjective({
        backbone,
        data,
        config,
        rng,
        categories,
        nCategories: cats.nCategories,
        teacherOutputs: null,
      });
      expect(backbone.rawRowsRead, mode).toBe(mode === 'joint');
      objective.dispose();
      expect(backbone.rawRowsRead, mode).toBe(false);
      backbone.dispose();
      categories.dispose();
      disposeFeatures(features);
    }
  });
});
