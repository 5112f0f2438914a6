import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend, type NativeLoader } from './backend';
import { cudaDeviceVisible } from './native/cuda';
import { nativeThreadCount } from './native/load-engine';
import { tf } from './tf';
import { sparseKernels } from './wasm/sparse-kernels';

const nativeMissing: NativeLoader = async () => {
  throw new Error('the cpu engine is not built yet');
};

/**
 * Runs `fn` as in a process that has not loaded the native engine. The tensor project's files share one
 * process (isolate: false) and the engine loads once per process, so once an earlier file has loaded it,
 * it would answer before the loader under test is asked: its factory is hidden meanwhile, then restored.
 */
async function withoutLoadedEngine(fn: () => Promise<void>): Promise<void> {
  const factories = (tf.engine() as unknown as { registryFactory: Record<string, unknown> }).registryFactory;
  const loaded = factories['tensorflow'];
  delete factories['tensorflow'];
  try {
    // Another request first, so that initBackend does not answer the one under test from its last choice.
    await initBackend({ prefer: 'cpu', env: {}, log: () => undefined });
    await fn();
  } finally {
    if (loaded) factories['tensorflow'] = loaded;
  }
}

function recorder(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

describe('initBackend', () => {
  it('falls back from native TensorFlow to wasm when the engine cannot load, and says why in one line', () =>
    withoutLoadedEngine(async () => {
      const { lines, log } = recorder();
      const name = await initBackend({ prefer: 'tensorflow', env: {}, loadNative: nativeMissing, log });
      expect(name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(currentBackend()).toBe('wasm');
      expect(lines).toEqual(['[sgfd/tensor] backend: wasm (skipped tensorflow: the cpu engine is not built yet)']);
    }));

  it('skips tensorflow-gpu where no CUDA device is visible, without loading anything for it', () =>
    withoutLoadedEngine(async () => {
      const asked: string[] = [];
      const { lines, log } = recorder();
      const name = await initBackend({
        env: { CUDA_VISIBLE_DEVICES: '' },
        loadNative: async (variant) => {
          asked.push(variant);
          throw new Error(`no ${variant} engine`);
        },
        log,
      });
      expect(name).toBe('wasm');
      expect(asked).toEqual(['cpu']);
      expect(lines).toEqual([
        '[sgfd/tensor] backend: wasm (skipped tensorflow-gpu: no CUDA device visible; tensorflow: no cpu engine)',
      ]);
    }));

  it('is idempotent: a repeated request neither switches nor logs again', async () => {
    const { lines, log } = recorder();
    const first = await initBackend({ prefer: 'cpu', env: {}, log });
    const second = await initBackend({ prefer: 'cpu', env: {}, log });
    expect([first, second]).toEqual(['cpu', 'cpu']);
    expect(lines).toEqual(['[sgfd/tensor] backend: cpu']);
    // Activating cpu (or wasm) compiled the sparse products' SIMD kernels, so those ops need no await.
    expect(sparseKernels()).not.toBeNull();
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
    expect(() => initBackend({ env: { SGFD_BACKEND: 'gpu' } })).toThrow(
      /SGFD_BACKEND.*tensorflow-gpu \| tensorflow \| wasm \| cpu.*"gpu"/,
    );
  });

  it('fails with a ConfigError when SGFD_BACKEND asks for a backend that cannot load', async () => {
    await expect(
      initBackend({ env: { SGFD_BACKEND: 'tensorflow-gpu', CUDA_VISIBLE_DEVICES: '-1' }, loadNative: nativeMissing }),
    ).rejects.toThrow(/Backend 'tensorflow-gpu' requested by SGFD_BACKEND is not available: no CUDA device visible/);
  });

  it('loads the native engine built by tools/tensorflow (npm test builds it first) and computes on it', async () => {
    const { lines, log } = recorder();
    expect(await initBackend({ env: { SGFD_BACKEND: 'tensorflow' }, log })).toBe('tensorflow');
    expect(lines).toEqual(['[sgfd/tensor] backend: tensorflow (from SGFD_BACKEND)']);
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]);
    expect(product).toBe(11);
  });

  it.runIf(cudaDeviceVisible())(
    'on a machine with a visible CUDA device (runs only there): picks tensorflow-gpu and computes on the GPU',
    async () => {
      expect(await initBackend({ env: {}, log: () => undefined })).toBe('tensorflow-gpu');
      expect((tf.backend() as unknown as { isUsingGpuDevice: boolean }).isUsingGpuDevice).toBe(true);
      expect(tf.tidy(() => tf.sum(tf.ones([1000, 1000])).dataSync()[0])).toBe(1e6);
    },
  );
});

describe('cudaDeviceVisible', () => {
  it('needs a GPU listed by the NVIDIA driver, and honours CUDA_VISIBLE_DEVICES hiding them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sgfd-cuda-'));
    try {
      const gpus = join(root, 'gpus');
      expect(cudaDeviceVisible({}, gpus)).toBe(false);
      await mkdir(gpus);
      expect(cudaDeviceVisible({}, gpus)).toBe(false);
      await mkdir(join(gpus, '0000:01:00.0'));
      expect(cudaDeviceVisible({}, gpus)).toBe(true);
      expect(cudaDeviceVisible({ CUDA_VISIBLE_DEVICES: '0' }, gpus)).toBe(true);
      for (const hidden of ['', '-1', 'NoDevFiles'])
        expect(cudaDeviceVisible({ CUDA_VISIBLE_DEVICES: hidden }, gpus)).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('nativeThreadCount', () => {
  it('is every core by default, SGFD_TENSOR_THREADS when set, and rejects anything but a positive integer', () => {
    expect(nativeThreadCount({})).toBeGreaterThanOrEqual(1);
    expect(nativeThreadCount({ SGFD_TENSOR_THREADS: '3' })).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'many'])
      expect(() => nativeThreadCount({ SGFD_TENSOR_THREADS: bad })).toThrow(/SGFD_TENSOR_THREADS.*whole number/);
  });
});

describe('the tfjs installation', () => {
  it('has one tfjs-core, shared by tfjs, tfjs-node and every backend, so kernels registered here are the ones used', () => {
    const require = createRequire(import.meta.url);
    const coreFrom = (pkg: string) =>
      createRequire(dirname(require.resolve(`${pkg}/package.json`)) + '/').resolve('@tensorflow/tfjs-core');
    const packages = [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-layers',
      '@tensorflow/tfjs-node',
    ];
    expect([...new Set(packages.map(coreFrom))]).toEqual([require.resolve('@tensorflow/tfjs-core')]);
    expect(tf.version['tfjs-core']).toBe('4.22.0');
  });
});
