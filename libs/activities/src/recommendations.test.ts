import { describe, expect, it } from 'vitest';
import { decodeParquet, IdMap } from '@sgfd/data';
import { recommendationSample, recommendationsParquet, type Recommendations } from './recommendations';

const recs: Recommendations = {
  k: 2,
  items: Int32Array.from([2, 0, 1, -1]),
  scores: Float32Array.from([0.9, 0.5, 0.7, Number.NaN]),
};

describe('recommendations with the ids of the source', () => {
  it('writes user_id and item_id beside the indices', () => {
    const ids = new IdMap(2, 3, { users: ['A2XR', 'B7QQ'], items: ['B0PEN', 'B0PAPER', 'B0STAPLER'] });
    const table = decodeParquet(recommendationsParquet(recs, 2, ids), 'recommendations');
    expect(Array.from(table.getChild('user')!)).toEqual([0, 0, 1]);
    expect(Array.from(table.getChild('item')!)).toEqual([2, 0, 1]);
    expect(Array.from(table.getChild('user_id')!)).toEqual(['A2XR', 'A2XR', 'B7QQ']);
    expect(Array.from(table.getChild('item_id')!)).toEqual(['B0STAPLER', 'B0PEN', 'B0PAPER']);
    expect(recommendationSample(recs, ids)).toEqual([
      { user: 'A2XR', items: ['B0STAPLER', 'B0PEN'] },
      { user: 'B7QQ', items: ['B0PAPER'] },
    ]);
  });

  it('uses the index as the id for sources without ids of their own', () => {
    const table = decodeParquet(recommendationsParquet(recs, 2, new IdMap(2, 3, null)), 'recommendations');
    expect(Array.from(table.getChild('item_id')!)).toEqual(['2', '0', '1']);
  });
});
