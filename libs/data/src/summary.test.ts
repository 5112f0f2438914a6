import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '@sgfd/contracts';
import { findSnapshot } from './snapshot-find';
import { loadSnapshot } from './snapshot-load';
import { writeSnapshot } from './snapshot-write';
import { summarizeDataset } from './summary';

describe('dataset summary and snapshot lookup', () => {
  it('summarises counts, density, splits, categories and features by hand-checkable numbers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgfd-summary-'));
    try {
      const { dir, id } = await writeSnapshot(
        {
          nUsers: 2,
          nItems: 3,
          interactions: {
            users: Int32Array.from([0, 0, 0, 1, 1]),
            items: Int32Array.from([0, 1, 2, 0, 2]),
            splits: Int8Array.from([0, 0, 2, 0, 1]),
            ratings: new Float32Array(5).fill(1),
            timestamps: new BigInt64Array(5),
          },
          categories: Int32Array.from([1, 1, 0]),
          features: { image: { rows: 3, dim: 2, data: Float32Array.from([0, 3, 4, 0, 0, 0]) } },
          source: { kind: 'synthetic', description: 'summary test' },
        },
        { root },
      );
      const s = summarizeDataset(await loadSnapshot(dir));
      expect(s).toMatchObject({ id, users: 2, items: 3, interactions: 5, splits: { train: 3, valid: 1, test: 1 } });
      expect(s.density).toBeCloseTo(5 / 6, 12);
      expect(s.interactionsPerUser).toEqual({ min: 2, median: 2.5, mean: 2.5, max: 3 });
      expect(s.interactionsPerItem).toEqual({ min: 1, median: 2, mean: 5 / 3, max: 2 });
      expect(s.categoryHistogram).toEqual([1, 2]);
      const f = s.features[0];
      expect(f).toMatchObject({ modality: 'image', dim: 2, min: 0, max: 4 });
      expect(f.mean).toBeCloseTo(7 / 6, 6);
      expect(f.std).toBeCloseTo(Math.sqrt(25 / 6 - (7 / 6) ** 2), 6);
      expect(f.zeroFraction).toBeCloseTo(4 / 6, 12);
      expect(f.meanRowNorm).toBeCloseTo((3 + 4 + 0) / 3, 6);

      expect(await findSnapshot(dir, '/nonexistent')).toBe(dir);
      expect(await findSnapshot(id.slice(0, 8), root)).toBe(dir);
      await expect(findSnapshot('abcdef12', root)).rejects.toThrow(DatasetError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
