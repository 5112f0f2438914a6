import { RunConfigSchema } from '@sgfd/contracts';
import { initBackend, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { ridgeProbe } from './ridge-probe';
import { pretrainTeacher } from './teacher';
import { tinyDataset } from './test-support/datasets';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

describe('the ridge probe beside the teacher', () => {
  // 12 dimensions: the primal form (more fit rows than dimensions); 500: the dual form.
  it.each([12, 500])(
    'the probe (%i dims) separates linearly separable categories perfectly and knows nothing of shuffled labels',
    async (dim) => {
      // 4 categories, each a distinct direction plus small noise: a linear map recovers them exactly.
      const rows = 400;
      const data = new Float32Array(rows * dim);
      const labels = new Int32Array(rows);
      let s = 1;
      const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
      for (let r = 0; r < rows; r++) {
        labels[r] = r % 4;
        for (let c = 0; c < dim; c++) data[r * dim + c] = (c === labels[r]! ? 1 : 0) + noise();
      }
      const order = Int32Array.from({ length: rows }, (_, i) => i);
      const before = tf.memory().numTensors;
      const probe = await ridgeProbe({ rows, dim, data }, labels, 4, order.slice(0, 300), order.slice(300));
      expect(probe.accuracy).toBe(1);
      // Labels independent of the features: the probe is near chance (0.25) on held-out items.
      const shuffled = Int32Array.from(labels, (_, i) => (i * 7 + (i >> 3)) % 4);
      const blind = await ridgeProbe({ rows, dim, data }, shuffled, 4, order.slice(0, 300), order.slice(300));
      expect(blind.accuracy).toBeLessThan(0.45);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('a probe stopped between solves (afterSolve throws) rejects with that error and leaves no tensor behind', async () => {
    const rows = 60;
    const dim = 8;
    const data = Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i * 0.7));
    const labels = Int32Array.from({ length: rows }, (_, i) => i % 3);
    const order = Int32Array.from({ length: rows }, (_, i) => i);
    const before = tf.memory().numTensors;
    let solves = 0;
    const stop = async () => {
      if (++solves === 2) throw new Error('stopped');
    };
    await expect(ridgeProbe({ rows, dim, data }, labels, 3, order.slice(0, 45), order.slice(45), stop)).rejects.toThrow(
      'stopped',
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('on tiny, the teacher at its default settings reaches 0.95 of the probe in every modality', async () => {
    const dataset = await tinyDataset();
    const config = RunConfigSchema.parse({ backbone: 'vbpr', sgfd: { mode: 'two-stage', teacher: { epochs: 60 } } });
    const { report } = await pretrainTeacher(dataset, config);
    expect(report.inputTransform).toEqual(config.sgfd.inputTransform);
    for (const m of ['image', 'text'] as const) {
      const probe = report.probe![m]!.accuracy;
      expect(probe, `${m} probe`).toBeGreaterThan(2 / dataset.nCategories!);
      expect(report.perModality[m]!, `${m} teacher vs probe ${probe}`).toBeGreaterThanOrEqual(0.95 * probe);
    }
  });
});
