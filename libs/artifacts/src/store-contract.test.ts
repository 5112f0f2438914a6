// The ArtifactStore contract, run on every backend: file:// on a temp folder and s3:// on the real S3 test
// server (versitygw on loopback). A second store instance stands for another process or machine.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DatasetError } from '@sgfd/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileArtifactStore } from './file-store';
import { artifactKey, sha256Hex } from './keys';
import { ARTIFACT_MANIFEST_FILE } from './manifest';
import type { ArtifactStore, StagingArea } from './store';
import { createTestBucket, removeTestS3Caches, testS3Store } from './test-support/s3';

const keyOf = (n: number) => artifactKey({ inputs: [n], config: {}, codeVersion: 'contract' });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

interface Backend {
  name: string;
  /** A fresh empty store, and a function opening another instance on the same storage. */
  open(): Promise<{ store: ArtifactStore; another(): Promise<ArtifactStore> }>;
}

const tempDirs: string[] = [];
let bucket: string;

const backends: Backend[] = [
  {
    name: 'file://',
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'sgfd-contract-'));
      tempDirs.push(root);
      return { store: new FileArtifactStore(root), another: async () => new FileArtifactStore(root) };
    },
  },
  {
    name: 's3://',
    async open() {
      const prefix = `contract/${randomBytes(4).toString('hex')}`;
      return { store: await testS3Store(bucket, prefix), another: () => testS3Store(bucket, prefix) };
    },
  },
];

beforeAll(async () => {
  bucket = await createTestBucket('contract');
});
afterAll(async () => {
  await removeTestS3Caches();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe.each(backends)('ArtifactStore contract on $name', (backend) => {
  let store: ArtifactStore;
  let another: () => Promise<ArtifactStore>;
  const open = async () => {
    ({ store, another } = await backend.open());
  };

  it('stores files and returns a ref whose sha256 is that of the stored manifest', async () => {
    await open();
    const address = { kind: 'evaluation' as const, key: keyOf(1) };
    const stored = await store.put(
      address,
      { 'metrics.json': '{"recall@20":0.1}', 'nested/top.bin': new Uint8Array([1, 2, 3]) },
      { note: 'x' },
    );
    expect(stored.reused).toBe(false);
    expect(stored.ref.uri).toBe(`${store.rootUri}/evaluation/${address.key}`);
    const manifestBytes = await readFile(join(await store.openPath(stored.ref), ARTIFACT_MANIFEST_FILE));
    expect(stored.ref.sha256).toBe(sha256Hex(manifestBytes));
    expect(stored.ref.bytes).toBe(17 + 3 + manifestBytes.length);
    expect(stored.manifest.files.map((f) => [f.path, f.bytes])).toEqual([
      ['metrics.json', 17],
      ['nested/top.bin', 3],
    ]);
    expect(stored.manifest.meta).toEqual({ note: 'x' });
    expect(text(await store.get(stored.ref, 'metrics.json'))).toBe('{"recall@20":0.1}');
    expect([...(await readFile(await store.openPath(stored.ref, 'nested/top.bin')))]).toEqual([1, 2, 3]);
    expect(await store.exists(address)).toBe(true);
    expect(await store.exists(stored.ref)).toBe(true);
    await expect(store.get(stored.ref, 'missing.bin')).rejects.toThrow(
      /No such file in the artifact.*metrics\.json, nested\/top\.bin/,
    );
    // Another process (for s3, another machine with its own cache) reads the same bytes.
    const elsewhere = await another();
    expect(text(await elsewhere.get(stored.ref, 'metrics.json'))).toBe('{"recall@20":0.1}');
    expect((await elsewhere.readManifest(stored.ref)).meta).toEqual({ note: 'x' });
  });

  it('short-circuits on an existing manifest: the build runs once, later calls return the same ref', async () => {
    await open();
    const address = { kind: 'teacher' as const, key: keyOf(2) };
    let builds = 0;
    const build = async (staging: StagingArea) => {
      builds++;
      await writeFile(await staging.path('weights.bin'), new Uint8Array(16).fill(builds));
      return { epochs: 3 };
    };
    const first = await store.withArtifact(address, build);
    const second = await store.withArtifact(address, build);
    const fromAnother = await (await another()).withArtifact(address, build);
    expect(builds).toBe(1);
    expect(second.reused).toBe(true);
    expect(second.ref).toEqual(first.ref);
    expect(fromAnother.ref).toEqual(first.ref);
    expect(second.manifest.meta).toEqual({ epochs: 3 });
  });

  it('deletes (manifest first) and rebuilds deterministic content into the same ref', async () => {
    await open();
    const address = { kind: 'model' as const, key: keyOf(3) };
    const first = await store.put(address, { 'w.bin': new Uint8Array([9, 9]) });
    expect(await store.delete(first.ref)).toBe(true);
    expect(await store.exists(address)).toBe(false);
    expect(await store.delete(address)).toBe(false);
    const again = await store.put(address, { 'w.bin': new Uint8Array([9, 9]) });
    expect(again.reused).toBe(false);
    expect(again.ref).toEqual(first.ref);
  });

  it('leaves nothing visible when the build throws', async () => {
    await open();
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
    expect(await (await another()).list()).toEqual([]);
  });

  it('lists complete artifacts by prefix', async () => {
    await open();
    const a = await store.put({ kind: 'teacher', key: keyOf(5) }, { x: 'a' });
    const b = await store.put({ kind: 'teacher', key: keyOf(6) }, { x: 'b' });
    const c = await store.put({ kind: 'snapshot', key: keyOf(7) }, { x: 'c' });
    const uris = (refs: { uri: string }[]) => refs.map((r) => r.uri).sort();
    expect(uris(await store.list())).toEqual(uris([a.ref, b.ref, c.ref]));
    expect(uris(await store.list('teacher/'))).toEqual(uris([a.ref, b.ref]));
    expect(await store.list(`teacher/${keyOf(6).slice(0, 10)}`)).toEqual([b.ref]);
    expect(await store.list('snap')).toEqual([c.ref]);
    expect(await store.list('model/')).toEqual([]);
  });

  it('detects a replaced artifact through its ref', async () => {
    await open();
    const stored = await store.put({ kind: 'model', key: keyOf(8) }, { 'w.bin': new Uint8Array([1, 2, 3, 4]) });
    const staleRef = { ...stored.ref, sha256: 'f'.repeat(64) };
    await expect(store.readManifest(staleRef)).rejects.toThrow(/does not match its reference/);
    expect(await store.exists(staleRef)).toBe(false);
  });

  it('racing publishers of one key: exactly one manifest, every builder returns the same ref', async () => {
    await open();
    const address = { kind: 'knn-graph' as const, key: keyOf(9) };
    const racers = [store, await another(), await another()];
    let arrived = 0;
    let release!: () => void;
    const allBuilt = new Promise<void>((r) => (release = r));
    // Each builder writes different bytes (as two trainings would), and all finish building together.
    const build = async (staging: StagingArea) => {
      await writeFile(await staging.path('graph.bin'), randomBytes(64));
      if (++arrived === racers.length) release();
      await allBuilt;
      return { builder: arrived };
    };
    const results = await Promise.all(racers.map((s) => s.withArtifact(address, build)));
    expect(arrived).toBe(3);
    expect(new Set(results.map((r) => JSON.stringify(r.ref))).size).toBe(1);
    expect(results.filter((r) => !r.reused)).toHaveLength(1);
    expect(await store.list('knn-graph/')).toEqual([results[0]!.ref]);
    // The winner's bytes are what everyone reads, intact.
    const winner = results.find((r) => !r.reused)!;
    const bytes = await (await another()).get(winner.ref, 'graph.bin');
    expect(sha256Hex(bytes)).toBe(winner.manifest.files[0]!.sha256);
  });

  it('rejects bad addresses and reserved or escaping file names with ConfigError', async () => {
    await open();
    await expect(store.put({ kind: 'teacher', key: 'abc' }, {})).rejects.toThrow(ConfigError);
    await expect(store.put({ kind: 'nope' as 'teacher', key: keyOf(10) }, {})).rejects.toThrow(/Unknown artifact kind/);
    await expect(store.put({ kind: 'teacher', key: keyOf(10) }, { [ARTIFACT_MANIFEST_FILE]: '{}' })).rejects.toThrow(
      /reserved/,
    );
    await expect(store.put({ kind: 'teacher', key: keyOf(10) }, { '../escape': 'x' })).rejects.toThrow(/escapes/);
    expect(await store.list()).toEqual([]);
  });
});
