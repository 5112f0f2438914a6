import { ConfigError } from '@sgfd/contracts';
import { registerCustomKernels } from './kernels';
import { tf } from './tf';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface InitBackendOptions {
  /** First backend to try; the ones after it in tensorflow > wasm > cpu are the fallbacks. */
  prefer?: BackendName;
  /** Where the one-line choice is reported (stderr by default, so `--json` stdout stays clean). */
  log?: (line: string) => void;
  /** Environment read for SGFD_BACKEND (process.env by default). */
  env?: Record<string, string | undefined>;
  /** How native TensorFlow is loaded (tests substitute an unavailable one). */
  loadNative?: NativeLoader;
}

/** Loads native TensorFlow (its import registers the `tensorflow` backend); throws when unavailable. */
export type NativeLoader = () => Promise<void>;

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Tries the GPU build, then the CPU build, of tfjs-node. Both are optional installs. */
export const loadNativeTensorflow: NativeLoader = async () => {
  const failures: string[] = [];
  for (const name of NATIVE_PACKAGES) {
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      await import(/* @vite-ignore */ name);
      if (tf.findBackendFactory('tensorflow')) return;
      failures.push(`${name}: loaded but registered no 'tensorflow' backend`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(failures.join('; '));
};

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

async function activate(name: BackendName, loadNative: NativeLoader): Promise<void> {
  if (name === 'tensorflow' && !tf.findBackendFactory('tensorflow')) await loadNative();
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  if (name === 'cpu') {
    // The cpu backend prints a banner recommending tfjs-node on first use; the choice is logged already.
    (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  }
  registerCustomKernels(name);
}

/**
 * Picks and activates the tensor backend: `SGFD_BACKEND` if set (strict: an unavailable backend is an
 * error), else the first that works of `prefer` and those after it in tensorflow > wasm > cpu. Logs the
 * choice once. Calling it again with the same request returns the same backend without doing anything.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<string> {
  const { env = process.env, loadNative = loadNativeTensorflow } = options;
  const forced = parseEnvBackend(env['SGFD_BACKEND']);
  const key = forced ? `env:${forced}` : `prefer:${options.prefer ?? 'tensorflow'}`;
  if (chosen && chosen.key === key) return chosen.ready;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const ready = (async (): Promise<BackendName> => {
    if (forced) {
      try {
        await activate(forced, loadNative);
      } catch (error) {
        throw new ConfigError(`Backend '${forced}' requested by SGFD_BACKEND is not available: ${(error as Error).message}`, {
          field: 'SGFD_BACKEND',
        });
      }
      log(`[sgfd/tensor] backend: ${forced} (from SGFD_BACKEND)`);
      return (active = forced);
    }
    const chain = BACKEND_NAMES.slice(BACKEND_NAMES.indexOf(options.prefer ?? 'tensorflow'));
    const skipped: string[] = [];
    for (const name of chain) {
      try {
        await activate(name, loadNative);
        log(`[sgfd/tensor] backend: ${name}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`);
        return (active = name);
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
export function currentBackend(): string {
  if (!active) throw new Error('currentBackend() called before initBackend() resolved');
  return active;
}
