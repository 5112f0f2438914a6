import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend, type NativeLoader } from './backend';
import { tf } from './tf';

const nativeMissing: NativeLoader = async () => {
  throw new Error("Cannot find package '@tensorflow/tfjs-node'");
};

function recorder(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

describe('initBackend', () => {
  it('falls back from tensorflow to wasm when native TensorFlow cannot load, and says why', async () => {
    const { lines, log } = recorder();
    const name = await initBackend({ env: {}, loadNative: nativeMissing, log });
    expect(name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/backend: wasm \(skipped tensorflow: Cannot find package/);
  });

  it('is idempotent: a repeated request neither switches nor logs again', async () => {
    const { lines, log } = recorder();
    const first = await initBackend({ prefer: 'cpu', env: {}, log });
    const second = await initBackend({ prefer: 'cpu', env: {}, log });
    expect([first, second]).toEqual(['cpu', 'cpu']);
    expect(lines).toEqual(['[sgfd/tensor] backend: cpu']);
  });

  it('lets SGFD_BACKEND override the preference', async () => {
    const { lines, log } = recorder();
    const name = await initBackend({ prefer: 'cpu', env: { SGFD_BACKEND: 'wasm' }, log });
    expect(name).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    expect(lines).toEqual(['[sgfd/tensor] backend: wasm (from SGFD_BACKEND)']);
  });

  it('rejects an unknown SGFD_BACKEND with a ConfigError naming the variable and the choices', async () => {
    expect(() => initBackend({ env: { SGFD_BACKEND: 'gpu' } })).toThrow(ConfigError);
    expect(() => initBackend({ env: { SGFD_BACKEND: 'gpu' } })).toThrow(/SGFD_BACKEND.*tensorflow \| wasm \| cpu.*"gpu"/);
  });

  it('fails with a ConfigError when SGFD_BACKEND asks for a backend that cannot load', async () => {
    await expect(initBackend({ env: { SGFD_BACKEND: 'tensorflow' }, loadNative: nativeMissing })).rejects.toThrow(
      /Backend 'tensorflow' requested by SGFD_BACKEND is not available: Cannot find package/,
    );
  });
});

describe('the tfjs installation', () => {
  it('has one tfjs-core, shared by tfjs and every backend, so kernels registered here are the ones used', () => {
    const require = createRequire(import.meta.url);
    const coreFrom = (pkg: string) =>
      createRequire(dirname(require.resolve(`${pkg}/package.json`)) + '/').resolve('@tensorflow/tfjs-core');
    const copies = new Set(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-layers'].map(coreFrom));
    expect([...copies]).toEqual([require.resolve('@tensorflow/tfjs-core')]);
    expect(tf.version['tfjs-core']).toBe('4.22.0');
  });
});
