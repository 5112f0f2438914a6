import { ConfigError } from '@sgfd/contracts';
import { registerCustomKernels } from './kernels';
import { cudaDeviceVisible } from './native/cuda';
import type { EngineVariant } from './native/engine-paths';
import { nativeUsesGpu, registerNativeEngine } from './native/load-engine';
import { tf } from './tf';
import { loadSparseKernels } from './wasm/sparse-kernels';

/**
 * The engines, best first. `tensorflow-gpu` and `tensorflow` are both tfjs's `tensorflow` backend (native
 * TensorFlow through tfjs-node's binding), on its CUDA and its CPU build.
 */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** The tfjs backend an engine runs on. */
export function tfjsBackendOf(name: BackendName): string {
  return name === 'tensorflow-gpu' ? 'tensorflow' : name;
}

export interface InitBackendOptions {
  /** First backend to try; the ones after it in tensorflow-gpu > tensorflow > wasm > cpu are the fallbacks. */
  prefer?: BackendName;
  /** Where the one-line choice is reported (stderr by default, so `--json` stdout stays clean). */
  log?: (line: string) => void;
  /** Environment read for SGFD_BACKEND (process.env by default). */
  env?: Record<string, string | undefined>;
  /** How native TensorFlow is loaded (tests substitute an unavailable one). */
  loadNative?: NativeLoader;
}

/** Registers tfjs's `tensorflow` backend on the native engine of one variant; throws when unavailable. */
export type NativeLoader = (variant: EngineVariant, env: NodeJS.ProcessEnv) => Promise<void>;

/** The engine built by tools/tensorflow (or SGFD_TENSORFLOW_DIR). */
export const loadNativeTensorflow: NativeLoader = async (variant, env) => registerNativeEngine(variant, env);

let chosen: { key: string; ready: Promise<BackendName> } | undefined;
let active: BackendName | undefined;

function parseEnvBackend(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new ConfigError('Unknown tensor backend', {
    field: 'SGFD_BACKEND',
    expected: BACKEND_NAMES.join(' | '),
    found: JSON.stringify(value),
  });
}

/** The native engine is loaded once per process: two TensorFlow libraries cannot share one. */
async function activateNative(
  name: 'tensorflow-gpu' | 'tensorflow',
  env: NodeJS.ProcessEnv,
  loadNative: NativeLoader,
): Promise<BackendName> {
  if (name === 'tensorflow-gpu' && !cudaDeviceVisible(env)) throw new Error('no CUDA device visible');
  if (!tf.findBackendFactory('tensorflow')) await loadNative(name === 'tensorflow-gpu' ? 'gpu' : 'cpu', env);
  if (!(await tf.setBackend('tensorflow'))) throw new Error("tf.setBackend('tensorflow') failed");
  if (name === 'tensorflow-gpu' && !nativeUsesGpu()) {
    throw new Error('TensorFlow found no usable GPU (CUDA 12 and cuDNN 9 libraries on the loader path?)');
  }
  return nativeUsesGpu() ? 'tensorflow-gpu' : 'tensorflow';
}

async function activate(name: BackendName, env: NodeJS.ProcessEnv, loadNative: NativeLoader): Promise<BackendName> {
  let active = name;
  if (name === 'tensorflow-gpu' || name === 'tensorflow') active = await activateNative(name, env, loadNative);
  else {
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    // The sparse products' WebAssembly SIMD kernels: compiled here, once, so the ops themselves stay synchronous.
    await loadSparseKernels();
  }
  if (name === 'cpu') {
    // The cpu backend prints a banner recommending tfjs-node on first use; the choice is logged already.
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  }
  registerCustomKernels(tfjsBackendOf(name));
  return active;
}

/**
 * Picks and activates the tensor backend: `SGFD_BACKEND` if set (strict: an unavailable backend is an
 * error), else the first that works of `prefer` and those after it in tensorflow-gpu > tensorflow > wasm > cpu. Logs the
 * choice once. Calling it again with the same request returns the same backend without doing anything.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendName> {
  const { env = process.env, loadNative = loadNativeTensorflow } = options;
  const forced = parseEnvBackend(env['SGFD_BACKEND']);
  const key = forced ? `env:${forced}` : `prefer:${options.prefer ?? 'tensorflow-gpu'}`;
  if (chosen && chosen.key === key) return chosen.ready;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const ready = (async (): Promise<BackendName> => {
    if (forced) {
      try {
        const got = await activate(forced, env, loadNative);
        log(`[sgfd/tensor] backend: ${got} (from SGFD_BACKEND)`);
        return (active = got);
      } catch (error) {
        throw new ConfigError(
          `Backend '${forced}' requested by SGFD_BACKEND is not available: ${(error as Error).message}`,
          {
            field: 'SGFD_BACKEND',
          },
        );
      }
    }
    const chain = BACKEND_NAMES.slice(BACKEND_NAMES.indexOf(options.prefer ?? 'tensorflow-gpu'));
    const skipped: string[] = [];
    for (const name of chain) {
      try {
        const got = await activate(name, env, loadNative);
        log(`[sgfd/tensor] backend: ${got}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`);
        return (active = got);
      } catch (error) {
        skipped.push(`${name}: ${(error as Error).message}`);
      }
    }
    throw new Error(`No tensor backend could be initialised: ${skipped.join('; ')}`);
  })();
  const entry = { key, ready };
  chosen = entry;
  ready.catch(() => {
    if (chosen === entry) chosen = undefined;
  });
  return ready;
}

/** The backend chosen by `initBackend` (recorded in every run manifest). */
export function currentBackend(): BackendName {
  if (!active) throw new Error('currentBackend() called before initBackend() resolved');
  return active;
}
