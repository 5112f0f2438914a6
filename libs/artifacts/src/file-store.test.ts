import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DatasetError } from '@sgfd/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileArtifactStore } from './file-store';
import { artifactKey } from './keys';
import { ARTIFACT_MANIFEST_FILE } from './manifest';

const keyOf = (n: number) => artifactKey({ inputs: [n], config: {}, codeVersion: 'test' });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('FileArtifactStore', () => {
  let root: string;
  let store: FileArtifactStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sgfd-artifacts-'));
    store = new FileArtifactStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores files and returns a ref whose sha256 is that of the manifest on disk', async () => {
    const address = { kind: 'evaluation' as const, key: keyOf(1) };
    const stored = await store.put(
      address,
      { 'metrics.json': '{"recall@20":0.1}', 'nested/top.bin': new Uint8Array([1, 2, 3]) },
      { note: 'x' },
    );
    expect(stored.reused).toBe(false);
    const dir = join(root, 'evaluation', address.key);
    expect(stored.ref.uri).toBe(`file://${dir}`);
    expect(stored.ref.kind).toBe('evaluation');
    const manifestBytes = await readFile(join(dir, ARTIFACT_MANIFEST_FILE));
    expect(stored.ref.sha256).toBe(createHash('sha256').update(manifestBytes).digest('hex'));
    expect(stored.ref.bytes).toBe(17 + 3 + manifestBytes.length);
    expect(stored.manifest.files).toEqual([
      { path: 'metrics.json', bytes: 17, sha256: createHash('sha256').update('{"recall@20":0.1}').digest('hex') },
      {
        path: 'nested/top.bin',
        bytes: 3,
        sha256: createHash('sha256')
          .update(new Uint8Array([1, 2, 3]))
          .digest('hex'),
      },
    ]);
    expect(stored.manifest.meta).toEqual({ note: 'x' });

    expect(text(await store.get(stored.ref, 'metrics.json'))).toBe('{"recall@20":0.1}');
    expect(await store.openPath(stored.ref, 'nested/top.bin')).toBe(join(dir, 'nested', 'top.bin'));
    expect(await store.exists(address)).toBe(true);
    expect(await store.exists(stored.ref)).toBe(true);
    await expect(store.get(stored.ref, 'missing.bin')).rejects.toThrow(
      /No such file in the artifact.*metrics\.json, nested\/top\.bin/,
    );
  });

  it('short-circuits on an existing manifest: the build runs once, later calls return the same ref', async () => {
    const address = { kind: 'teacher' as const, key: keyOf(2) };
    let builds = 0;
    const build = async (staging: { path(n: string): Promise<string> }) => {
      builds++;
      await writeFile(await staging.path('weights.bin'), new Uint8Array(16).fill(builds));
      return { epochs: 3 };
    };
    const first = await store.withArtifact(address, build);
    const second = await store.withArtifact(address, build);
    const fromAnotherStore = await new FileArtifactStore(root).withArtifact(address, build);
    expect(builds).toBe(1);
    expect(second.reused).toBe(true);
    expect(second.ref).toEqual(first.ref);
    expect(fromAnotherStore.ref).toEqual(first.ref);
    expect(second.manifest.meta).toEqual({ epochs: 3 });
  });

  it('builds deterministic content into identical refs after delete and rebuild', async () => {
    const address = { kind: 'model' as const, key: keyOf(3) };
    const first = await store.put(address, { 'w.bin': new Uint8Array([9, 9]) });
    expect(await store.delete(first.ref)).toBe(true);
    expect(await store.exists(address)).toBe(false);
    expect(await store.delete(address)).toBe(false);
    const again = await store.put(address, { 'w.bin': new Uint8Array([9, 9]) });
    expect(again.reused).toBe(false);
    expect(again.ref).toEqual(first.ref);
  });

  it('leaves nothing visible or staged when the build throws', async () => {
    const address = { kind: 'teacher' as const, key: keyOf(4) };
    const error = await store
      .withArtifact(address, async (staging) => {
        await writeFile(await staging.path('half.bin'), new Uint8Array(100));
        throw new DatasetError('bad feature row', { file: 'image.arrow', row: 5 });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect(await store.exists(address)).toBe(false);
    expect(await store.list()).toEqual([]);
    expect(await readdir(join(root, '.staging'))).toEqual([]);
    expect(existsSync(join(root, 'teacher', address.key))).toBe(false);
  });

  it('lists complete artifacts by prefix', async () => {
    const a = await store.put({ kind: 'teacher', key: keyOf(5) }, { x: 'a' });
    const b = await store.put({ kind: 'teacher', key: keyOf(6) }, { x: 'b' });
    const c = await store.put({ kind: 'snapshot', key: keyOf(7) }, { x: 'c' });
    const sortByUri = (refs: { uri: string }[]) => refs.map((r) => r.uri).sort();
    expect(sortByUri(await store.list())).toEqual(sortByUri([a.ref, b.ref, c.ref]));
    expect(sortByUri(await store.list('teacher/'))).toEqual(sortByUri([a.ref, b.ref]));
    expect(await store.list(`teacher/${keyOf(6).slice(0, 10)}`)).toEqual([b.ref]);
    expect(await store.list('snap')).toEqual([c.ref]);
    expect(await store.list('model/')).toEqual([]);
  });

  it('detects a corrupted file and a replaced artifact, naming the file', async () => {
    const stored = await store.put({ kind: 'model', key: keyOf(8) }, { 'w.bin': new Uint8Array([1, 2, 3, 4]) });
    const path = join(fileURLToPath(stored.ref.uri), 'w.bin');
    await writeFile(path, new Uint8Array([1, 2, 3, 5]));
    await expect(store.get(stored.ref, 'w.bin')).rejects.toThrow(DatasetError);
    await expect(store.get(stored.ref, 'w.bin')).rejects.toThrow(/corrupt.*w\.bin.*expected sha256/);

    const staleRef = { ...stored.ref, sha256: 'f'.repeat(64) };
    await expect(store.readManifest(staleRef)).rejects.toThrow(/does not match its reference/);
    expect(await store.exists(staleRef)).toBe(false);
  });

  it('lets concurrent builders of one address agree on one artifact', async () => {
    const address = { kind: 'knn-graph' as const, key: keyOf(9) };
    const build = async (staging: { path(n: string): Promise<string> }) => {
      await writeFile(await staging.path('graph.bin'), new Uint8Array(64).fill(3));
      await new Promise((r) => setTimeout(r, 20));
    };
    const results = await Promise.all([
      store.withArtifact(address, build),
      store.withArtifact(address, build),
      store.withArtifact(address, build),
    ]);
    expect(new Set(results.map((r) => r.ref.sha256)).size).toBe(1);
    expect(await store.list('knn-graph/')).toHaveLength(1);
    expect(await readdir(join(root, '.staging'))).toEqual([]);
  });

  it('rejects bad addresses and reserved or escaping file names with ConfigError', async () => {
    await expect(store.put({ kind: 'teacher', key: 'abc' }, {})).rejects.toThrow(ConfigError);
    await expect(store.put({ kind: 'nope' as 'teacher', key: keyOf(10) }, {})).rejects.toThrow(/Unknown artifact kind/);
    await expect(store.put({ kind: 'teacher', key: keyOf(10) }, { [ARTIFACT_MANIFEST_FILE]: '{}' })).rejects.toThrow(
      /reserved/,
    );
    await expect(store.put({ kind: 'teacher', key: keyOf(10) }, { '../escape': 'x' })).rejects.toThrow(/escapes/);
    expect(existsSync(join(root, 'escape'))).toBe(false);
    expect(await store.list()).toEqual([]);
  });
});
