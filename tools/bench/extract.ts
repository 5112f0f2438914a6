// `npm run bench -- extract [--items N] [--chunk N]`: feature extraction of a raw catalogue (string ids,
// English titles, drawn PNGs; written first, not timed). Baseline, measured in the same run: reading and
// validating the same catalogue into a snapshot without encoding anything. Then text alone and images
// alone with an empty feature cache (items/s), a re-run of both (everything from the cache) and the same
// catalogue grown by 10 items (only those encoded).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileArtifactStore } from '@sgfd/artifacts';
import { readRawCatalogue, writeSnapshot } from '@sgfd/data';
import {
  extractDataset,
  RAW_CATALOGUE_COLUMNS,
  writeDemoCatalogue,
  writeRawCatalogue,
  drawProductImage,
  type ExtractDatasetOptions,
} from '@sgfd/extract';
import { ensureTextModel } from '../text-encoder/install';

const seconds = async (fn: () => Promise<unknown>) => {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
};

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { items: { type: 'string' }, chunk: { type: 'string' } } });
  const items = Number(values.items ?? 300);
  const chunkSize = Number(values.chunk ?? 64);
  await ensureTextModel();
  const work = await mkdtemp(join(tmpdir(), 'sgfd-bench-extract-'));
  try {
    const dir = join(work, 'shop');
    const demo = await writeDemoCatalogue(dir, { size: 'tiny', seed: 1 });
    // The demo writer fixes the size; rewrite the tables at the asked size with the same images drawer.
    const files = await writeRawCatalogue(dir, {
      items,
      users: Math.max(50, Math.round(items * 0.7)),
      interactionsPerUser: 15,
      seed: 1,
      images: (category, rng) => drawProductImage(category, rng),
      imageModel: { model: 'image-encoder.onnx' },
    });
    const base = (root: string): ExtractDatasetOptions => ({
      items: files.items,
      interactions: files.interactions,
      columns: RAW_CATALOGUE_COLUMNS,
      categoryLevel: 2,
      extraction: {},
      featureStore: new FileArtifactStore(join(work, root, 'cache')),
      root: join(work, root, 'snapshots'),
      chunkSize,
    });
    const baseline = await seconds(async () => {
      const catalogue = await readRawCatalogue(base('baseline'));
      await writeSnapshot(catalogue.input, { root: join(work, 'baseline', 'snapshots') });
    });
    const text = { text: { maxTokens: 128 } };
    const image = { image: { model: demo.imageModel } };
    const textCold = await seconds(() => extractDataset({ ...base('text'), extraction: text }));
    const imageCold = await seconds(() => extractDataset({ ...base('image'), extraction: image }));
    const both = { ...base('both'), extraction: { ...text, ...image } };
    const bothCold = await seconds(() => extractDataset(both));
    const rerun = await seconds(() => extractDataset(both));
    await writeRawCatalogue(dir, {
      items: items + 10,
      users: Math.max(50, Math.round(items * 0.7)),
      interactionsPerUser: 15,
      seed: 1,
      images: (category, rng) => drawProductImage(category, rng),
    });
    let encoded = '';
    const grown = await seconds(async () => {
      const r = await extractDataset(both);
      encoded = `text ${r.stats.text?.encoded}, image ${r.stats.image?.encoded}`;
    });
    const rows: [string, number, string][] = [
      ['read + validate + write, no features (baseline)', baseline, ''],
      ['text features, empty cache', textCold, `${((items / textCold) | 0).toLocaleString()} items/s`],
      ['image features, empty cache', imageCold, `${((items / imageCold) | 0).toLocaleString()} items/s`],
      ['text + image, empty cache', bothCold, ''],
      ['re-run of text + image (all from the cache)', rerun, 'encoded 0'],
      ['catalogue grown by 10 items', grown, `encoded ${encoded}`],
    ];
    console.log(
      `extract bench: ${items} items, chunks of ${chunkSize}, 384-d text (all-MiniLM-L6-v2), 32-d image (small CNN on 56 x 56)`,
    );
    console.log('| step | seconds | x baseline | |');
    console.log('|---|---:|---:|---|');
    for (const [name, s, note] of rows)
      console.log(`| ${name} | ${s.toFixed(2)} | ${(s / baseline).toFixed(1)} | ${note} |`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
