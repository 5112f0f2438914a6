import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@sgfd/contracts';
import { Rng } from '@sgfd/data';
import { PRODUCT_CATEGORIES, productText } from '../catalogue/product-titles';
import { openOnnxSession } from '../onnx-session';
import { linearProbeAccuracy, majorityAccuracy } from '@sgfd/data/testing';
import { meanPoolNormalized, SentenceEncoder } from './sentence-encoder';
import { TEXT_MODEL_FILES, textModelDir } from './text-model';

// The real all-MiniLM-L6-v2 (fetched into the cache by the root vitest global setup).
let encoder: SentenceEncoder;
beforeAll(async () => {
  encoder = await SentenceEncoder.load({ dir: textModelDir(), maxTokens: 64 });
}, 120_000);
afterAll(async () => {
  await encoder?.dispose();
});

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, k) => s + v * b[k]!, 0);
const row = (m: Float32Array, r: number, dim: number) => m.subarray(r * dim, (r + 1) * dim);

describe('mean pooling', () => {
  it('averages only the unpadded tokens and scales to unit length (hand-computed)', () => {
    // Two rows padded to length 3, dim 2: row 0 has tokens [3,0],[1,4]; row 1 has [0,2] and two pads.
    const hidden = Float32Array.from([3, 0, 1, 4, 99, 99, 0, 2, 50, 50, 50, 50]);
    const out = meanPoolNormalized(hidden, [[1, 2], [1]], 3, 2);
    // row 0: mean (2, 2) -> (1/sqrt2, 1/sqrt2); row 1: (0, 2) -> (0, 1)
    expect(Array.from(out)).toEqual([expect.closeTo(Math.SQRT1_2, 6), expect.closeTo(Math.SQRT1_2, 6), 0, 1]);
  });
});

describe('the sentence encoder (all-MiniLM-L6-v2 on ONNX Runtime)', () => {
  it('gives 384-d unit vectors that place similar products closer', async () => {
    const texts = [
      'Heavy duty desktop stapler, 40 sheet capacity',
      'Mini stapler with staples, jam free',
      'Blue gel pens, fine point, pack of 12',
    ];
    const v = await encoder.encode(texts);
    expect(encoder.dim).toBe(384);
    expect(v.length).toBe(3 * 384);
    for (let r = 0; r < 3; r++) expect(Math.sqrt(dot(row(v, r, 384), row(v, r, 384)))).toBeCloseTo(1, 5);
    expect(dot(row(v, 0, 384), row(v, 1, 384))).toBeGreaterThan(dot(row(v, 0, 384), row(v, 2, 384)) + 0.15);
  });

  it('encodes a text the same alone and in a padded batch', async () => {
    const alone = await encoder.encode(['Cast iron skillet']);
    const batch = await encoder.encode([
      'Cast iron skillet',
      'A much longer text about a nonstick frying pan for eggs',
    ]);
    for (let d = 0; d < 384; d++) expect(batch[d]).toBeCloseTo(alone[d]!, 4);
  });

  it('cuts long texts to maxTokens, [CLS] and [SEP] kept', async () => {
    const ids = encoder.tokenIds('stapler '.repeat(200));
    expect(ids).toHaveLength(64);
    expect(ids[0]).toBe(encoder.tokenIds('')[0]);
    expect(ids[63]).toBe(encoder.tokenIds('').at(-1));
  });

  it('separates product categories: a ridge probe on its features beats the majority class by a wide margin', async () => {
    const rng = new Rng(11);
    const n = 320;
    const products = Array.from({ length: n }, (_, k) => productText(rng, k % PRODUCT_CATEGORIES.length, k));
    const features = await encoder.encode(products.map((p) => `${p.title}. ${p.description}`));
    const labels = Int32Array.from(products, (p) => p.category);
    // Held out: every fourth block of one product per category, so every category is in both parts.
    const isTrain = (r: number) => Math.floor(r / PRODUCT_CATEGORIES.length) % 4 !== 0;
    const accuracy = linearProbeAccuracy(features, 384, labels, PRODUCT_CATEGORIES.length, isTrain, 0.1);
    const majority = majorityAccuracy(labels, PRODUCT_CATEGORIES.length, (r) => !isTrain(r));
    expect(majority).toBeLessThan(0.2);
    console.error(`[probe] held-out accuracy ${accuracy.toFixed(3)}, majority class ${majority.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(majority + 0.6);
  }, 120_000);
});

describe('bad model files', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sgfd-onnx-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('names a file that is not ONNX', async () => {
    const path = join(work, 'model.onnx');
    await writeFile(path, 'this is not a protobuf');
    const err = await openOnnxSession(path, { inputs: ['x'], output: 'y' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('Not an ONNX model');
    expect((err as ConfigError).location.file).toBe(path);
  });

  it('names the outputs of a model without the expected one', async () => {
    const path = join(textModelDir(), TEXT_MODEL_FILES.model);
    const err = await openOnnxSession(path, { inputs: ['input_ids', 'attention_mask'], output: 'pooler' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('wrong output');
    expect((err as ConfigError).location.found).toContain('last_hidden_state');
  });
});
