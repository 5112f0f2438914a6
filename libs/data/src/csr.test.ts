import { describe, expect, it } from 'vitest';
import { buildCsr } from './csr';

describe('buildCsr', () => {
  it('groups items by user with each run sorted, whatever the input order', () => {
    const csr = buildCsr({ users: Int32Array.from([2, 0, 2, 0, 2]), items: Int32Array.from([5, 3, 1, 0, 4]) }, 4);
    expect(Array.from(csr.indptr)).toEqual([0, 2, 2, 5, 5]);
    expect(Array.from(csr.indices)).toEqual([0, 3, 1, 4, 5]);
  });

  it('keeps already sorted input as is', () => {
    const csr = buildCsr({ users: Int32Array.from([0, 0, 1, 1, 1]), items: Int32Array.from([1, 2, 0, 3, 9]) }, 2);
    expect(Array.from(csr.indptr)).toEqual([0, 2, 5]);
    expect(Array.from(csr.indices)).toEqual([1, 2, 0, 3, 9]);
  });
});
