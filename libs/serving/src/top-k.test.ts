import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DotRepresentations, MamlRepresentations } from '@sgfd/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdMap } from '@sgfd/data';
import { idsHint, readScoringBundle, writeScoringBundle } from './scoring-bundle';
import { userItemsOf } from './seen-items';
import { Recommender, topKOfRow } from './top-k';
import { createScorer } from './scorer';

/** The reference: sort every finite entry by score (descending), ties to the lower index. */
function sortedTop(scores: Float32Array, k: number): number[] {
  return Array.from(scores, (s, i) => ({ s, i }))
    .filter(({ s }) => s !== -Infinity && !Number.isNaN(s))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k)
    .map(({ i }) => i);
}

describe('topKOfRow', () => {
  it('equals a full sort (ties to the lower item, masked and NaN entries skipped) for every k', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 10;
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + (trial % 17) * 3;
      // Few distinct values, so ties are common.
      const scores = Float32Array.from({ length: n }, () => Math.floor(next()) / 2);
      if (n > 3) scores[1] = -Infinity;
      if (n > 5) scores[4] = Number.NaN;
      for (const k of [1, 2, 5, n, n + 3]) {
        const top = topKOfRow(scores, k);
        expect(Array.from(top.items)).toEqual(sortedTop(scores, k));
        expect(Array.from(top.scores)).toEqual(Array.from(top.items, (i) => scores[i]));
      }
    }
  });
});

describe('Recommender', () => {
  // 3 users x 4 items in 2 dimensions; user 0 trained on item 0 and validated on item 1.
  const representations: DotRepresentations = {
    form: 'dot',
    users: { rows: 3, cols: 2, data: Float32Array.from([1, 0, 0, 1, 1, 1]) },
    items: { rows: 4, cols: 2, data: Float32Array.from([4, 0, 3, 0, 2, 1, 0, 0.5]) },
  };
  const seen = {
    train: userItemsOf(3, Int32Array.from([0, 2]), Int32Array.from([0, 3])),
    valid: userItemsOf(3, Int32Array.from([0]), Int32Array.from([1])),
  };
  let recommender: Recommender;
  beforeAll(async () => {
    recommender = new Recommender(await createScorer(representations), seen);
  });

  it('ranks by the dot product and leaves out what the masking names', () => {
    // user 0 scores: 4, 3, 2, 0
    expect(Array.from(recommender.recommend(0, 4, 'none').items)).toEqual([0, 1, 2, 3]);
    expect(Array.from(recommender.recommend(0, 4, 'train').items)).toEqual([1, 2, 3]);
    expect(Array.from(recommender.recommend(0, 2, 'train+valid').items)).toEqual([2, 3]);
    // user 2 scores: 4, 3, 3, 0.5 (a tie between items 1 and 2)
    const top = recommender.recommend(2, 3, 'train');
    expect(Array.from(top.items)).toEqual([0, 1, 2]);
    expect(Array.from(top.scores)).toEqual([4, 3, 3]);
  });

  it('reads back from a written bundle with the same answers, and writes it by one rename', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgfd-bundle-'));
    try {
      const dir = join(root, 'scoring');
      const pairs = {
        train: { users: Int32Array.from([0, 2]), items: Int32Array.from([0, 3]) },
        valid: { users: Int32Array.from([0]), items: Int32Array.from([1]) },
      };
      const model = { backbone: 'vbpr', sgfd: 'off', run: 'r', trainedAt: 't', datasetId: 'd', test: null };
      await writeScoringBundle(dir, representations, pairs, model);
      expect((await readdir(root)).sort()).toEqual(['scoring']);
      const bundle = await readScoringBundle(dir);
      expect(bundle.spec).toMatchObject({ form: 'dot', users: 3, items: 4, dim: 2, model });
      expect(bundle.spec.score).toContain('users.vector[u][k] * items.vector[i][k]');
      for (const exclude of ['none', 'train', 'train+valid'] as const) {
        for (let u = 0; u < 3; u++)
          expect(bundle.recommender.recommend(u, 4, exclude)).toEqual(recommender.recommend(u, 4, exclude));
      }
      expect(bundle.ids.userIndex('2')).toBe(2);
      expect(bundle.ids.userIndex('3')).toBeUndefined();
      expect(bundle.ids.userIndex('02')).toBeUndefined();
      expect(bundle.ids.itemId(3)).toBe('3');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("keeps a raw catalogue's original ids through a written bundle (originalIds in, the same ids out)", async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgfd-bundle-'));
    try {
      const dir = join(root, 'scoring');
      const empty = { users: new Int32Array(0), items: new Int32Array(0) };
      const model = { backbone: 'vbpr', sgfd: 'off', run: 'r', trainedAt: 't', datasetId: 'd', test: null };
      const ids = new IdMap(3, 4, { users: ['ann', 'bob', 'cy'], items: ['B0PEN', 'B0INK', 'B0PAD', 'B0CLIP'] });
      await writeScoringBundle(dir, representations, { train: empty, valid: empty }, model, ids);
      const bundle = await readScoringBundle(dir);
      expect(bundle.spec.ids).toContain("source's own");
      expect(bundle.ids.userIndex('bob')).toBe(1);
      expect(bundle.ids.userIndex('1')).toBeUndefined();
      expect(bundle.ids.itemId(3)).toBe('B0CLIP');
      expect(bundle.ids.itemIndex('B0PAD')).toBe(2);
      expect(idsHint(bundle, 'user')).toContain("3 ids such as 'ann'");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("keeps MAML's attention form through a written bundle: the same scores, the formula and weights in scoring.json", async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgfd-bundle-'));
    const m = (rows: number, cols: number, seed: number) => ({
      rows,
      cols,
      data: Float32Array.from({ length: rows * cols }, (_, j) => Math.sin(seed * 7.3 + j * 1.7)),
    });
    const maml: MamlRepresentations = {
      form: 'maml-attention',
      users: m(3, 4, 1),
      items: m(5, 4, 2),
      userPart: m(3, 6, 3),
      userSq: { rows: 3, cols: 1, data: Float32Array.from([1, 2, 3]) },
      itemPart: m(5, 6, 4),
      itemSq: { rows: 5, cols: 1, data: Float32Array.from([1, 0.5, 2, 1, 3]) },
      b1: m(1, 6, 5),
      w2: m(6, 4, 6),
      b2: m(1, 4, 7),
    };
    try {
      const dir = join(root, 'scoring');
      const empty = { users: new Int32Array(0), items: new Int32Array(0) };
      const info = { backbone: 'maml', sgfd: 'off', run: 'r', trainedAt: 't', datasetId: 'd', test: null };
      await writeScoringBundle(dir, maml, { train: empty, valid: empty }, info);
      const bundle = await readScoringBundle(dir);
      expect(bundle.spec.form).toBe('maml-attention');
      expect(bundle.spec.score).toContain('softmax');
      expect(bundle.spec.parameters!.w2).toHaveLength(6);
      const direct = await createScorer(maml);
      const a = new Float32Array(5);
      const b = new Float32Array(5);
      for (let u = 0; u < 3; u++) {
        direct.scoreUser(u, a);
        bundle.recommender.scorer.scoreUser(u, b);
        expect(Array.from(b)).toEqual(Array.from(a));
        expect(a.every((x) => Number.isFinite(x) && x <= 0)).toBe(true);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
