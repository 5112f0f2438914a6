import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackbone } from '../registry';
import { allScores, smallData } from '../test-support/backbone-fixtures';
import '../backbones/index';
import { readTensorFile, writeTensorFile } from './tensor-file';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'sgfd-tensor-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tensor files', () => {
  it("a model's weight index is weights.tensors.json, not a name TF.js's model.json format would have", async () => {
    const { data, features } = smallData(1);
    const model = createBackbone('vbpr', { data, features, params: {}, rng: createRng(1) });
    try {
      await model.save(join(dir, 'new'));
      const files = (await readdir(join(dir, 'new'))).sort();
      expect(files).toHaveLength(2);
      expect(files[0]).toMatch(/^weights-[0-9a-f]{16}\.bin$/);
      expect(files[1]).toBe('weights.tensors.json');
      expect(JSON.parse(await readFile(join(dir, 'new', files[1]!), 'utf8')).format).toBe('sgfd-tensors');
    } finally {
      model.dispose();
      tf.dispose(Object.values(features));
    }
  });

  it('an old model folder (model.json + model-<hash>.bin) still loads, with the same scores', async () => {
    const { data, features } = smallData(2);
    const saved = createBackbone('vbpr', { data, features, params: {}, rng: createRng(2) });
    const loaded = createBackbone('vbpr', { data, features, params: {}, rng: createRng(3) });
    const old = join(dir, 'old');
    try {
      // The layout before the rename: the same index format under model.json, its binary model-<hash>.bin.
      await saved.save(old);
      const index = JSON.parse(await readFile(join(old, 'weights.tensors.json'), 'utf8')) as { file: string };
      const bin = index.file.replace(/^weights-/, 'model-');
      await rename(join(old, index.file), join(old, bin));
      await writeFile(join(old, 'model.json'), JSON.stringify({ ...index, file: bin }));
      await rm(join(old, 'weights.tensors.json'));
      await loaded.load(old);
      expect(allScores(loaded, data.nUsers)).toEqual(allScores(saved, data.nUsers));
    } finally {
      saved.dispose();
      loaded.dispose();
      tf.dispose(Object.values(features));
    }
  });

  it('rewriting a folder that held a pre-rename index replaces it', async () => {
    const legacy = join(dir, 'legacy');
    await writeTensorFile(legacy, 'teacher', { a: { shape: [2], data: Float32Array.from([1, 2]) } });
    await rename(join(legacy, 'teacher.tensors.json'), join(legacy, 'teacher.json'));
    expect((await readTensorFile(legacy, 'teacher')).arrays['a']!.data).toEqual(Float32Array.from([1, 2]));
    await writeTensorFile(legacy, 'teacher', { a: { shape: [1], data: Float32Array.from([3]) } });
    const files = (await readdir(legacy)).sort();
    expect(files.filter((f) => f.endsWith('.json'))).toEqual(['teacher.tensors.json']);
    expect((await readTensorFile(legacy, 'teacher')).arrays['a']!.data).toEqual(Float32Array.from([3]));
  });
});
