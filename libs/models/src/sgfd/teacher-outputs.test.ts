import { readdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError } from '@sgfd/contracts';
import { initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrozenTeacher, loadTeacherOutputs, saveTeacherOutputs, type TeacherOutputs } from './teacher-outputs';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-teacher-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 3 items, latent 2, 2 categories, text only.
const outputs: TeacherOutputs = {
  nItems: 3,
  latentDim: 2,
  nCategories: 2,
  modalities: {
    text: {
      features: Float32Array.from([1, 0, 0, 1, 0.6, 0.8]),
      logits: Float32Array.from([2, -1, 0, 3, 1, 1]),
      classifierKernel: Float32Array.from([1, 2, 3, 4]),
      classifierBias: Float32Array.from([0.5, -0.5]),
    },
  },
  report: {
    datasetId: 'a'.repeat(64),
    bestEpoch: 4,
    epochsRun: 9,
    holdoutAccuracy: 0.75,
    perModality: { text: 0.75 },
    fusionAccuracy: null,
    holdoutItems: 1,
  },
};

describe('teacher outputs', () => {
  it('round-trip through a directory (binary + JSON index) and refuse damaged data', async () => {
    await saveTeacherOutputs(join(dir, 'ok'), outputs);
    expect(await loadTeacherOutputs(join(dir, 'ok'))).toEqual(outputs);
    await saveTeacherOutputs(join(dir, 'bad'), outputs);
    const bin = (await readdir(join(dir, 'bad'))).find((f) => f.endsWith('.bin'))!;
    await writeFile(join(dir, 'bad', bin), new Uint8Array(8));
    await expect(loadTeacherOutputs(join(dir, 'bad'))).rejects.toThrow(DatasetError);
    await expect(loadTeacherOutputs(join(dir, 'missing'))).rejects.toThrow(DatasetError);
  });

  it('serve the rows of a batch and the shared classifier as constants', () => {
    const frozen = new FrozenTeacher(outputs);
    tf.tidy(() => {
      const rows = frozen.rows(tf.tensor1d([2, 0], 'int32'), ['text']);
      expect(Array.from(rows.features.text!.dataSync())).toEqual([0.6, 0.8, 1, 0].map((v) => expect.closeTo(v, 6)));
      expect(Array.from(rows.logits.text!.dataSync())).toEqual([1, 1, 2, -1]);
      // [1, 1] x [[1, 2], [3, 4]] + [0.5, -0.5]
      expect(Array.from(frozen.classify('text', tf.tensor2d([[1, 1]])).dataSync())).toEqual([4.5, 5.5]);
      expect(() => frozen.rows(tf.tensor1d([0], 'int32'), ['image'])).toThrow(/no image/);
    });
    frozen.dispose();
  });
});
