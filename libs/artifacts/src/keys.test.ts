import { describe, expect, it } from 'vitest';
import { artifactKey, canonicalJson, sha256Hex } from './keys';

describe('artifact keys', () => {
  it('hashes the canonical JSON of inputs, config and code version (checked with sha256sum)', () => {
    const key = artifactKey({ inputs: ['snap'], config: { b: [2, { d: 'x', c: null }], a: 1 }, codeVersion: 'v1' });
    // printf '%s' '{"codeVersion":"v1","config":{"a":1,"b":[2,{"c":null,"d":"x"}]},"inputs":["snap"]}' | sha256sum
    expect(key).toBe('56d6dd10cc9d815e64a4beaf81e300b227a7cc9b474cbd64d4ccd244b63c430d');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('gives the same key whatever the key order, and a new key when anything changes', () => {
    const base = { inputs: { snapshot: 'a', teacher: 'b' }, config: { lr: 0.001, dims: [64, 32] }, codeVersion: '1' };
    const reordered = {
      codeVersion: '1',
      config: { dims: [64, 32], lr: 0.001 },
      inputs: { teacher: 'b', snapshot: 'a' },
    };
    expect(artifactKey(reordered)).toBe(artifactKey(base));
    expect(artifactKey({ ...base, codeVersion: '2' })).not.toBe(artifactKey(base));
    expect(artifactKey({ ...base, config: { lr: 0.002, dims: [64, 32] } })).not.toBe(artifactKey(base));
    expect(artifactKey({ ...base, config: { lr: 0.001, dims: [32, 64] } })).not.toBe(artifactKey(base));
  });

  it('drops undefined fields like JSON does and rejects values JSON cannot carry', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(() => canonicalJson({ lr: Number.NaN })).toThrow(/\(root\)\.lr is NaN/);
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/\(root\)\.when is a Date/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });
});
