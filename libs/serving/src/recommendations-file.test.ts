import { describe, expect, it } from 'vitest';
import { decodeParquet, IdMap } from '@sgfd/data';
import { servingIds, snapshotIndexIds } from './ids';
import { recommendationSample, recommendationsParquet, type AllRecommendations } from './recommendations-file';

const recs: AllRecommendations = {
  k: 2,
  excludeSeen: 'train',
  users: Int32Array.from([0, 0, 1]),
  ranks: Int32Array.from([1, 2, 1]),
  items: Int32Array.from([2, 0, 1]),
  scores: Float32Array.from([0.9, 0.5, 0.7]),
};

describe('recommendations with the ids of the source', () => {
  it('writes user_id and item_id beside the indices', () => {
    const ids = servingIds(new IdMap(2, 3, { users: ['A2XR', 'B7QQ'], items: ['B0PEN', 'B0PAPER', 'B0STAPLER'] }));
    const table = decodeParquet(recommendationsParquet(recs, ids), 'recommendations');
    expect(Array.from(table.getChild('user')!)).toEqual([0, 0, 1]);
    expect(Array.from(table.getChild('item')!)).toEqual([2, 0, 1]);
    expect(Array.from(table.getChild('user_id')!)).toEqual(['A2XR', 'A2XR', 'B7QQ']);
    expect(Array.from(table.getChild('item_id')!)).toEqual(['B0STAPLER', 'B0PEN', 'B0PAPER']);
    expect(recommendationSample(recs, ids)).toEqual([
      { user: 'A2XR', items: ['B0STAPLER', 'B0PEN'] },
      { user: 'B7QQ', items: ['B0PAPER'] },
    ]);
    expect(ids.userIndex('B7QQ')).toBe(1);
    expect(ids.itemIndex('B0PEN')).toBe(0);
    expect(ids.itemIndex('0')).toBeUndefined();
  });

  it('uses the index as the id for sources without ids of their own', () => {
    const table = decodeParquet(recommendationsParquet(recs, snapshotIndexIds(2, 3)), 'recommendations');
    expect(Array.from(table.getChild('item_id')!)).toEqual(['2', '0', '1']);
    const viaSnapshot = decodeParquet(recommendationsParquet(recs, servingIds(new IdMap(2, 3, null))), 'r');
    expect(Array.from(viaSnapshot.getChild('user_id')!)).toEqual(['0', '0', '1']);
  });
});
