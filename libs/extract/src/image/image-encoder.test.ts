import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import { loadSnapshot, originalIds, Rng } from '@sgfd/data';
import { drawProductImage } from '../catalogue/product-images';
import { PRODUCT_CATEGORIES } from '../catalogue/product-titles';
import { RAW_CATALOGUE_COLUMNS, writeRawCatalogue } from '../catalogue/raw-catalogue-writer';
import { extractDataset } from '../extract-dataset';
import { linearProbeAccuracy, majorityAccuracy } from '@sgfd/data/testing';
import { createImageEncoder } from './image-modality';
import { preprocessImage } from './image-preprocess';
import type { ImageSettings } from './image-settings';
import { smallCnnOnnx } from './small-cnn-onnx';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-image-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function cnn(channels = 16, outputName?: string): Promise<string> {
  const path = join(work, 'small-cnn.onnx');
  await writeFile(path, smallCnnOnnx({ channels, seed: 3, outputName }));
  return path;
}

const settings = (model: string): ImageSettings => ({
  model,
  input: 'pixels',
  output: 'features',
  resize: 32,
  crop: 28,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
});

describe('image preprocessing', () => {
  it('centre-crops and normalises per channel into CHW (hand-computed)', async () => {
    // 6 x 2 pixels: columns 0-1 blue, 2-3 red, 4-5 green. The shorter side is already 2, so the centre
    // 2 x 2 crop is the red block: R = (1 - 0.5) / 0.5 = 1, G = B = (0 - 0.5) / 0.5 = -1.
    const rgb = [0, 0, 255, 0, 0, 255, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0];
    const png = await sharp(Uint8Array.from([...rgb, ...rgb]), { raw: { width: 6, height: 2, channels: 3 } })
      .png()
      .toBuffer();
    const out = new Float32Array(1 + 3 * 4);
    await preprocessImage(png, { resize: 2, crop: 2, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, out, 1);
    expect(out[0]).toBe(0);
    expect(Array.from(out.subarray(1))).toEqual([1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1]);
  });

  it('rejects bytes that are not an image', async () => {
    const out = new Float32Array(3 * 4);
    await expect(preprocessImage(new TextEncoder().encode('not a png'), settings('x'), out, 0)).rejects.toThrow();
  });
});

describe('ONNX image encoder (a small CNN written by the test)', () => {
  it('gives features of drawn product images that a linear probe tells apart by category', async () => {
    const encoder = await createImageEncoder(settings(await cnn()));
    try {
      // Made without loading the model: it is loaded when the first image must be encoded.
      expect(encoder.loaded).toBe(false);
      const model = await encoder.load();
      expect(encoder.loaded).toBe(true);
      expect(model.dim).toBe(16);
      const rng = new Rng(4);
      const n = 160;
      const labels = Int32Array.from({ length: n }, (_, k) => k % PRODUCT_CATEGORIES.length);
      const paths: string[] = [];
      for (let k = 0; k < n; k++) {
        const path = join(work, `${k}.png`);
        await writeFile(path, await drawProductImage(labels[k]!, rng));
        paths.push(path);
      }
      const { features, failed } = await model.encode(paths);
      expect(failed).toEqual([]);
      const isTrain = (r: number) => Math.floor(r / PRODUCT_CATEGORIES.length) % 4 !== 0;
      const accuracy = linearProbeAccuracy(features, 16, labels, PRODUCT_CATEGORIES.length, isTrain, 0.01);
      const majority = majorityAccuracy(labels, PRODUCT_CATEGORIES.length, (r) => !isTrain(r));
      expect(accuracy).toBeGreaterThan(majority + 0.5);
    } finally {
      await encoder.dispose();
    }
  }, 120_000);

  it('names the model file and its outputs when the declared output is not there', async () => {
    const model = await cnn(8, 'embedding');
    const err = await createImageEncoder(settings(model))
      .then((encoder) => encoder.load())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('wrong output');
    expect((err as ConfigError).location).toMatchObject({ file: model, found: expect.stringContaining('embedding') });
  });

  it('names a model file that is not ONNX', async () => {
    const model = join(work, 'model.onnx');
    await writeFile(model, await drawProductImage(0, new Rng(1)));
    const err = await createImageEncoder(settings(model))
      .then((encoder) => encoder.load())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain('Not an ONNX model');
  });
});

describe('extractDataset with images', () => {
  it('counts and reports missing and undecodable images by path, gives them the mean feature, and caches the rest', async () => {
    const files = await writeRawCatalogue(join(work, 'shop'), {
      items: 30,
      users: 20,
      interactionsPerUser: 6,
      seed: 2,
      images: (category, rng) => drawProductImage(category, rng),
    });
    const missing = join(files.dir, 'images', `${files.itemIds[3]}.png`);
    const corrupt = join(files.dir, 'images', `${files.itemIds[7]}.png`);
    await unlink(missing);
    await writeFile(corrupt, 'truncated PNG');
    const model = await cnn();
    const options = {
      ...files,
      columns: RAW_CATALOGUE_COLUMNS,
      extraction: { image: settings(model) },
      featureStore: new FileArtifactStore(join(work, 'cache')),
      root: join(work, 'snapshots'),
      chunkSize: 8,
    };
    const result = await extractDataset(options);
    expect(result.stats.image).toMatchObject({ items: 30, encoded: 28, failed: 2, dim: 16 });
    expect(result.problems).toEqual([
      { modality: 'image', item: files.itemIds[3], path: missing, problem: 'missing image file' },
      {
        modality: 'image',
        item: files.itemIds[7],
        path: corrupt,
        problem: expect.stringContaining('undecodable image'),
      },
    ]);
    const dataset = await loadSnapshot(result.dir);
    const ids = await originalIds(result.dir);
    const image = dataset.features.image!;
    const rowOf = (id: string) => Array.from(image.data.subarray(ids.itemOf(id)! * 16, (ids.itemOf(id)! + 1) * 16));
    const good = files.itemIds.filter((_, k) => k !== 3 && k !== 7);
    const mean = Array.from({ length: 16 }, (_, d) => good.reduce((s, id) => s + rowOf(id)[d]!, 0) / good.length);
    for (const bad of [files.itemIds[3]!, files.itemIds[7]!])
      rowOf(bad).forEach((v, d) => expect(v).toBeCloseTo(mean[d]!, 5));
    expect(dataset.manifest.source).toMatchObject({ extraction: { problemCount: 2 } });

    const again = await extractDataset(options);
    expect(again.stats.image).toMatchObject({ encoded: 0, cached: 28, failed: 2 });
  }, 120_000);

  it('loads a model only when an item of its modality must be encoded', async () => {
    const files = await writeRawCatalogue(join(work, 'shop'), {
      items: 24,
      users: 20,
      interactionsPerUser: 6,
      seed: 6,
      images: (category, rng) => drawProductImage(category, rng),
    });
    const options = {
      ...files,
      columns: RAW_CATALOGUE_COLUMNS,
      extraction: { text: { maxTokens: 32 }, image: settings(await cnn()) },
      featureStore: new FileArtifactStore(join(work, 'cache')),
      root: join(work, 'snapshots'),
      chunkSize: 8,
    };
    const first = await extractDataset(options);
    expect(first.stats.text).toMatchObject({ encoded: 24, modelLoaded: true, dim: 384 });
    expect(first.stats.image).toMatchObject({ encoded: 24, modelLoaded: true, dim: 16 });

    // Everything cached: neither the sentence encoder nor the image model is loaded, widths from the cache.
    const again = await extractDataset(options);
    expect(again.stats.text).toMatchObject({ encoded: 0, cached: 24, modelLoaded: false, dim: 384 });
    expect(again.stats.image).toMatchObject({ encoded: 0, cached: 24, modelLoaded: false, dim: 16 });
    expect(again.id).toBe(first.id);

    // One new picture: the image model is loaded for it, the text model still not.
    await writeFile(join(files.dir, 'images', `${files.itemIds[5]}.png`), await drawProductImage(0, new Rng(99)));
    const repainted = await extractDataset(options);
    expect(repainted.stats.text).toMatchObject({ encoded: 0, modelLoaded: false });
    expect(repainted.stats.image).toMatchObject({ encoded: 1, cached: 23, modelLoaded: true });
  }, 120_000);
});
