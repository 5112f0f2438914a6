import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, SplitCode } from '@sgfd/contracts';
import { buildCsr } from './csr';
import type { InteractionColumns } from './dataset-input';
import { loadSnapshot } from './snapshot-load';
import { writeSnapshot } from './snapshot-write';
import { generateSynthetic, SYNTHETIC_PRESETS, type SyntheticDataset } from './synthetic';
import { itemKnnScorer, linearProbeAccuracy, popularityScorer, randomScorer, recallAtK } from './test-support/probes';
import type { InteractionPairs } from './types';

function pairs(cols: InteractionColumns, code: number): InteractionPairs {
  const idx = [...cols.splits.keys()].filter((k) => cols.splits[k] === code);
  return { users: Int32Array.from(idx, (k) => cols.users[k]), items: Int32Array.from(idx, (k) => cols.items[k]) };
}

function recallOf(data: SyntheticDataset): { popularity: number; random: number; itemKnn: number } {
  const train = buildCsr(pairs(data.interactions, SplitCode.train), data.nUsers);
  const test = pairs(data.interactions, SplitCode.test);
  const at20 = (scorer: (u: number, out: Float64Array) => void): number =>
    recallAtK(scorer, train, test, data.nUsers, data.nItems, 20);
  return {
    popularity: at20(popularityScorer(train, data.nItems)),
    random: at20(randomScorer(7)),
    itemKnn: at20(itemKnnScorer(train, data.nUsers, data.nItems)),
  };
}

function counts(values: Int32Array, n: number): Int32Array {
  const out = new Int32Array(n);
  for (const v of values) out[v]++;
  return out;
}

const tiny = generateSynthetic({ preset: 'tiny', seed: 11 });

describe('synthetic generator', () => {
  it('is reproducible from its seed and changes with it', () => {
    const again = generateSynthetic({ preset: 'tiny', seed: 11 });
    for (const key of ['users', 'items', 'splits', 'ratings', 'timestamps'] as const) {
      expect(sameBytes(again.interactions[key], tiny.interactions[key])).toBe(true);
    }
    expect(sameBytes(again.features.image!.data, tiny.features.image!.data)).toBe(true);
    expect(sameBytes(again.features.text!.data, tiny.features.text!.data)).toBe(true);
    const other = generateSynthetic({ preset: 'tiny', seed: 12 });
    expect(sameBytes(other.interactions.items, tiny.interactions.items)).toBe(false);
  });

  it('rejects impossible options with a ConfigError naming the option', () => {
    expect(() => generateSynthetic({ categorySignal: 1.5 })).toThrow(/categorySignal must be in \[0, 1\]/);
    expect(() => generateSynthetic({ items: 20, categories: 10 })).toThrow(ConfigError);
    expect(() => generateSynthetic({ preset: 'huge' as 'tiny' })).toThrow(/Unknown synthetic preset.*field 'preset'/);
  });

  it('makes tiny a 5-core dataset with enough interactions per user to learn from', () => {
    const { users, items, categories } = SYNTHETIC_PRESETS.tiny;
    expect([tiny.nUsers, tiny.nItems]).toEqual([users, items]);
    const perUser = counts(tiny.interactions.users, tiny.nUsers);
    const perItem = counts(tiny.interactions.items, tiny.nItems);
    expect(Math.min(...perUser)).toBeGreaterThanOrEqual(5);
    expect(Math.min(...perItem)).toBeGreaterThanOrEqual(5);
    expect(tiny.interactions.users.length / tiny.nUsers).toBeGreaterThanOrEqual(15);
    const sizes = Array.from(counts(tiny.categories, categories)).sort((a, b) => b - a);
    expect(sizes.length).toBe(categories);
    expect(sizes[0]).toBeGreaterThanOrEqual(4 * sizes[sizes.length - 1]);
    // Popularity is skewed: the top 10 % of items get a much larger share than 10 %.
    const sorted = Array.from(perItem).sort((a, b) => b - a);
    const top = sorted.slice(0, tiny.nItems / 10).reduce((a, b) => a + b, 0);
    expect(top / tiny.interactions.users.length).toBeGreaterThan(0.2);
  });

  it('makes image features non-negative, sparse and 4096-d, and text features unit-length and 384-d', () => {
    const image = tiny.features.image!;
    const text = tiny.features.text!;
    expect([image.rows, image.dim, text.rows, text.dim]).toEqual([tiny.nItems, 4096, tiny.nItems, 384]);
    let zeros = 0;
    let negative = 0;
    for (const v of image.data) {
      if (v === 0) zeros++;
      else if (!(v > 0)) negative++;
    }
    expect(negative).toBe(0);
    expect(zeros / image.data.length).toBeGreaterThan(0.5);
    expect(zeros / image.data.length).toBeLessThan(0.9);
    let worst = 0;
    for (let i = 0; i < text.rows; i++) {
      let norm = 0;
      for (let j = 0; j < text.dim; j++) norm += text.data[i * text.dim + j] ** 2;
      worst = Math.max(worst, Math.abs(Math.sqrt(norm) - 1));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('plants collaborative signal: item-kNN beats popularity 2x and random 3x on Recall@20', () => {
    const r = recallOf(tiny);
    expect(r.popularity).toBeGreaterThan(1.3 * r.random);
    expect(r.itemKnn).toBeGreaterThan(2 * r.popularity);
    expect(r.itemKnn).toBeGreaterThan(3 * r.random);
  });

  it('makes categories linearly predictable from each modality above chance but far from perfectly, and better from both', () => {
    const K = SYNTHETIC_PRESETS.tiny.categories;
    const majority = Math.max(...counts(tiny.categories, K)) / tiny.nItems;
    const isTrain = (row: number): boolean => row % 10 < 7;
    const probe = (data: Float32Array, dim: number): number =>
      linearProbeAccuracy(data, dim, tiny.categories, K, isTrain);
    const image = tiny.features.image!;
    const text = tiny.features.text!;
    const imageAcc = probe(image.data, image.dim);
    const textAcc = probe(text.data, text.dim);
    for (const acc of [imageAcc, textAcc]) {
      expect(acc).toBeGreaterThan(majority + 0.15);
      expect(acc).toBeLessThan(0.85);
    }
    const both = concatStandardised([image.data, text.data], [image.dim, text.dim], tiny.nItems);
    expect(probe(both, image.dim + text.dim)).toBeGreaterThan(Math.max(imageAcc, textAcc) + 0.1);
  });

  it('lets categorySignal decide how much of the collaborative signal runs through categories', () => {
    const flat = generateSynthetic({ preset: 'tiny', seed: 11, categorySignal: 0, modalities: [] });
    const strong = generateSynthetic({ preset: 'tiny', seed: 11, categorySignal: 1, modalities: [] });
    const inPreferred = (d: SyntheticDataset): number => {
      let n = 0;
      d.interactions.users.forEach((u, k) => {
        if (d.truth.preferredCategories[u].includes(d.categories[d.interactions.items[k]])) n++;
      });
      return n / d.interactions.users.length;
    };
    expect(inPreferred(strong)).toBeGreaterThan(0.9);
    expect(inPreferred(flat)).toBeLessThan(0.6);
    const rs = recallOf(strong);
    const rf = recallOf(flat);
    expect(rs.itemKnn / rs.popularity).toBeGreaterThan(rf.itemKnn / rf.popularity + 1);
  });

  it('sizes the office preset like Amazon Office (4,874 users, 2,406 items, about 53k interactions, 54 categories)', () => {
    const office = generateSynthetic({ preset: 'office', seed: 3, modalities: [] });
    expect([office.nUsers, office.nItems]).toEqual([4874, 2406]);
    expect(new Set(office.categories).size).toBe(54);
    expect(Math.abs(office.interactions.users.length - 52_957) / 52_957).toBeLessThan(0.03);
  });

  it('writes a snapshot that loads back with the planted data and the generator parameters', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgfd-synth-'));
    try {
      const { dir, manifest, created } = await writeSnapshot(tiny, { root });
      expect(created).toBe(true);
      expect(manifest.source).toMatchObject({ kind: 'synthetic', params: { preset: 'tiny', seed: 11 } });
      expect(manifest.categories).toBe(SYNTHETIC_PRESETS.tiny.categories);
      const loaded = await loadSnapshot(dir);
      expect(sameBytes(loaded.categories!, tiny.categories)).toBe(true);
      expect(sameBytes(loaded.features.text!.data, tiny.features.text!.data)).toBe(true);
      expect(sameBytes(loaded.features.image!.data, tiny.features.image!.data)).toBe(true);
      const c = manifest.counts;
      expect(c.train + c.valid + c.test).toBe(tiny.interactions.users.length);
      expect((await writeSnapshot(generateSynthetic({ preset: 'tiny', seed: 11 }), { root })).created).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return (
    Buffer.compare(
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

function concatStandardised(blocks: Float32Array[], dims: number[], rows: number): Float32Array {
  const width = dims.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * width);
  let offset = 0;
  blocks.forEach((block, b) => {
    const dim = dims[b];
    // Scale each block to unit total variance so neither modality drowns the other.
    const mean = new Float64Array(dim);
    for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) mean[j] += block[i * dim + j] / rows;
    let variance = 0;
    for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) variance += (block[i * dim + j] - mean[j]) ** 2;
    const scale = 1 / Math.sqrt(variance / rows);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < dim; j++) out[i * width + offset + j] = block[i * dim + j] * scale;
    offset += dim;
  });
  return out;
}
