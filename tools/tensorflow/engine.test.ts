import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bindingPathIn,
  cachedEngineDir,
  customOpsPathIn,
  customOpsSourceSha256,
  engineInfoPathIn,
  readEngineInfo,
} from '@sgfd/tensor/native';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINE_SOURCES } from './engine-sources';
import { ensureTensorflowEngine } from './install';
import { prepareTensorflowEngine, wantedVariants } from './prepare';
import { verifyWheel } from './wheel';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sgfd-tf-engine-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the native engine installer', () => {
  it('the engine npm test built is complete: binding, custom ops, libraries, and what it was built from', () => {
    const dir = cachedEngineDir('cpu');
    const info = readEngineInfo(dir);
    const { requirement, file, sha256 } = ENGINE_SOURCES.cpu;
    expect(info).toMatchObject({
      variant: 'cpu',
      tensorflowVersion: '2.18.0',
      tfjsNodeVersion: '4.22.0',
      source: { package: requirement, file, sha256 },
      customOpsSha256: customOpsSourceSha256(),
    });
    expect(bindingPathIn(dir)).toMatch(/lib\/napi-v8\/tfjs_binding\.node$/);
    expect(existsSync(customOpsPathIn(dir))).toBe(true);
  });

  it('returns a complete cached engine without building, and SGFD_TENSORFLOW_DIR without looking at the cache', async () => {
    const env = { XDG_CACHE_HOME: root, PATH: '' };
    const dir = cachedEngineDir('cpu', env);
    await mkdir(join(dir, 'lib', 'napi-v8'), { recursive: true });
    await mkdir(join(dir, 'ops'), { recursive: true });
    await writeFile(bindingPathIn(dir), 'binding');
    await writeFile(customOpsPathIn(dir), 'ops');
    await writeFile(engineInfoPathIn(dir), JSON.stringify({ customOpsSha256: customOpsSourceSha256() }));
    expect(await ensureTensorflowEngine({ env, log: () => undefined })).toMatchObject({ dir, source: 'cache' });
    const own = join(root, 'own');
    await expect(ensureTensorflowEngine({ env: { ...env, SGFD_TENSORFLOW_DIR: own } })).rejects.toThrow(
      `SGFD_TENSORFLOW_DIR=${own} has no binding at ${bindingPathIn(own)}`,
    );
    await mkdir(join(own, 'lib', 'napi-v8'), { recursive: true });
    await writeFile(bindingPathIn(own), 'binding');
    expect(await ensureTensorflowEngine({ env: { ...env, SGFD_TENSORFLOW_DIR: own } })).toMatchObject({
      dir: own,
      source: 'env',
    });
  });

  it('rebuilds a cached engine whose custom ops were built from another source (or without them)', async () => {
    // No python3 on PATH: a rebuild fails at its first step, which shows that one was attempted.
    const env = { XDG_CACHE_HOME: root, PATH: '/nonexistent' };
    const dir = cachedEngineDir('cpu', env);
    for (const info of [{ customOpsSha256: '0'.repeat(64) }, {}]) {
      await mkdir(join(dir, 'lib', 'napi-v8'), { recursive: true });
      await mkdir(join(dir, 'ops'), { recursive: true });
      await writeFile(bindingPathIn(dir), 'binding');
      await writeFile(customOpsPathIn(dir), 'ops');
      await writeFile(engineInfoPathIn(dir), JSON.stringify(info));
      await expect(ensureTensorflowEngine({ env, log: () => undefined })).rejects.toThrow(/needs `python3`/);
    }
  });

  it('rejects a wheel whose sha256 is not the pinned one, naming the file and both checksums', async () => {
    const wheel = join(root, ENGINE_SOURCES.cpu.file);
    await writeFile(wheel, 'not a wheel');
    await expect(verifyWheel(wheel, ENGINE_SOURCES.cpu)).rejects.toThrow(
      new RegExp(`${ENGINE_SOURCES.cpu.file} has sha256 [0-9a-f]{64}, expected ${ENGINE_SOURCES.cpu.sha256}`),
    );
  });

  it('a failed build leaves nothing under the engine name, no temp directory and no lock', async () => {
    const env = { ...process.env, XDG_CACHE_HOME: root, PATH: '/nonexistent' };
    await expect(ensureTensorflowEngine({ env, log: () => undefined })).rejects.toThrow(
      /needs `python3`, which is not on PATH/,
    );
    expect(
      (await readdir(join(root, 'sgfd', 'tensorflow', '2.18.0'))).filter((f) => !f.endsWith('.build.log')),
    ).toEqual([]);
  });
});

describe('prepareTensorflowEngine', () => {
  it('never throws: a failed build is one log line, and the backend then falls back', async () => {
    const lines: string[] = [];
    await prepareTensorflowEngine({
      env: { ...process.env, XDG_CACHE_HOME: root, PATH: '/nonexistent', SGFD_BACKEND: '' },
      log: (l) => lines.push(l),
    });
    expect(lines.filter((l) => !l.startsWith('building'))).toEqual([
      'native TensorFlow (cpu) is not available, so tensors run on a fallback backend: pip download tensorflow-cpu==2.18.0 needs `python3`, which is not on PATH',
    ]);
  });

  it('builds nothing when SGFD_BACKEND asks for wasm or cpu, or SGFD_TENSORFLOW_DIR names a build', async () => {
    for (const env of [{ SGFD_BACKEND: 'wasm' }, { SGFD_BACKEND: 'cpu' }, { SGFD_TENSORFLOW_DIR: join(root, 'own') }]) {
      const lines: string[] = [];
      await prepareTensorflowEngine({ env: { ...env, XDG_CACHE_HOME: root, PATH: '' }, log: (l) => lines.push(l) });
      expect(lines).toEqual([]);
    }
  });

  it('wants the CUDA build only where asked or where a device is visible, and the CPU build always', () => {
    expect(wantedVariants({ CUDA_VISIBLE_DEVICES: '-1' })).toEqual(['cpu']);
    expect(wantedVariants({ SGFD_TENSORFLOW_GPU: '1' })).toEqual(['gpu', 'cpu']);
  });
});
