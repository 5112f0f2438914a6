import { RunConfigSchema, type RunConfigInput } from '@sgfd/contracts';
import { initBackend } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluatePopularity } from './evaluation';
import { trainStudent } from './student';
import { pretrainTeacher } from './teacher';
import { tinyDataset } from './test-support/datasets';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

// Small-data settings: a larger learning rate and smaller batches than MMRec's defaults, so that a
// few hundred steps suffice; VBPR at the top of MMRec's reg_weight grid.
const fast = (input: RunConfigInput) =>
  RunConfigSchema.parse({
    ...input,
    training: { learningRate: 0.01, batchSize: 512, epochs: 60, patience: 5, ...input.training },
    sgfd: {
      ceWeight: 1,
      kdWeight: 1,
      ...input.sgfd,
      teacher: {
        epochs: 60,
        patience: 5,
        learningRate: 0.02,
        batchSize: 64,
        holdoutFraction: 0.2,
        ...input.sgfd?.teacher,
      },
    },
  });

describe('learning on the tiny synthetic preset', () => {
  it('VBPR reaches validation Recall@20 of at least twice the popularity baseline', async () => {
    const dataset = await tinyDataset();
    const popularity = evaluatePopularity(dataset, 'valid').mean['recall@20'];
    const result = await trainStudent(
      dataset,
      fast({ backbone: 'vbpr', backboneParams: { regWeight: 1 }, sgfd: { mode: 'off' } }),
    );
    expect(result.valid['recall@20']).toBeGreaterThanOrEqual(2 * popularity);
    expect(result.test['recall@20']).toBeGreaterThanOrEqual(2 * evaluatePopularity(dataset, 'test').mean['recall@20']);
  });

  it('BM3 reaches validation Recall@20 of at least twice the popularity baseline', async () => {
    const dataset = await tinyDataset();
    const popularity = evaluatePopularity(dataset, 'valid').mean['recall@20'];
    // BM3 learns after a plateau of a few epochs: no early stop within the 16 epochs.
    const bm3 = fast({
      backbone: 'bm3',
      sgfd: { mode: 'off' },
      training: { learningRate: 0.03, batchSize: 1024, epochs: 16, evalEvery: 2, patience: 8 },
    });
    const result = await trainStudent(dataset, bm3);
    expect(result.valid['recall@20']).toBeGreaterThanOrEqual(2 * popularity);
  });

  it("the teacher's held-out category accuracy is well above chance, and fusion adds the other modality", async () => {
    const dataset = await tinyDataset();
    const { report } = await pretrainTeacher(dataset, fast({ backbone: 'vbpr' }));
    const chance = 1 / dataset.nCategories!;
    const counts = new Map<number, number>();
    for (const c of dataset.categories!) counts.set(c, (counts.get(c) ?? 0) + 1);
    const majority = Math.max(...counts.values()) / dataset.nItems;
    expect(report.holdoutAccuracy).toBeGreaterThan(3 * chance);
    expect(report.holdoutAccuracy).toBeGreaterThan(majority);
    expect(report.fusionAccuracy!).toBeGreaterThan(report.holdoutAccuracy);
  });

  it('two-stage SGFD beats the plain backbone on average over seeds when categories carry the signal', async () => {
    const plain: number[] = [];
    const sgfd: number[] = [];
    for (const seed of [1, 2, 3]) {
      // Every interaction inside the user's preferred categories; sparse users, so features matter.
      const dataset = await tinyDataset({ seed, categorySignal: 1, interactionsPerUser: 8 });
      const training = { epochs: 40, evalEvery: 2, patience: 3 };
      const off = fast({ backbone: 'vbpr', backboneParams: { regWeight: 1 }, sgfd: { mode: 'off' }, training });
      const twoStage = fast({
        backbone: 'vbpr',
        backboneParams: { regWeight: 1 },
        sgfd: { mode: 'two-stage' },
        training,
      });
      plain.push((await trainStudent(dataset, off)).test['recall@20']);
      sgfd.push((await trainStudent(dataset, twoStage, await pretrainTeacher(dataset, twoStage))).test['recall@20']);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(sgfd)).toBeGreaterThan(mean(plain));
  });
});

describe('determinism', () => {
  // The same-seed promise on this engine, to the bit: a native op whose float sums depended on a heap
  // buffer's alignment once broke it in the last digit of a bias gradient.
  it('teacher pretraining with one seed gives the same outputs twice, to the bit', async () => {
    const dataset = await tinyDataset();
    const config = fast({ backbone: 'vbpr', sgfd: { mode: 'two-stage', teacher: { epochs: 6, patience: 100 } } });
    const [a, b] = [await pretrainTeacher(dataset, config), await pretrainTeacher(dataset, config)];
    for (const m of ['image', 'text'] as const) {
      expect(a.modalities[m]!.features.length).toBeGreaterThan(0);
      expect(Buffer.from(b.modalities[m]!.features.buffer).equals(Buffer.from(a.modalities[m]!.features.buffer))).toBe(
        true,
      );
      expect(Array.from(b.modalities[m]!.classifierBias)).toEqual(Array.from(a.modalities[m]!.classifierBias));
    }
  });
});
