import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { tf } from '../tf';
import { loadCustomOps } from './custom-ops';
import { bindingPathIn, engineDirFor, type EngineVariant } from './engine-paths';

const require = createRequire(import.meta.url);

interface NodeKernelBackendModule {
  NodeJSKernelBackend: new (binding: unknown, packageName: string) => tf.KernelBackend;
}

/**
 * Intra-op threads of the native engine: `SGFD_TENSOR_THREADS`, else every core (TensorFlow's own default,
 * made explicit so the manifest can say it). TensorFlow reads TF_NUM_INTRAOP_THREADS when it makes its
 * thread pool, which happens when the binding loads, so this must run first.
 */
export function nativeThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['SGFD_TENSOR_THREADS'];
  if (raw === undefined || raw === '') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`SGFD_TENSOR_THREADS must be a whole number >= 1, found ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Registers tfjs's `tensorflow` backend on the engine of `variant` (see engine-paths.ts for where it is
 * looked up). Loads the binding and tfjs-node's JS kernels directly: tfjs-node's index would look for the
 * binding inside node_modules, where its download script would have put it.
 */
export function registerNativeEngine(variant: EngineVariant, env: NodeJS.ProcessEnv = process.env): void {
  const { dir, fromEnv } = engineDirFor(variant, env);
  const bindingPath = bindingPathIn(dir);
  if (!existsSync(bindingPath)) {
    throw new Error(
      fromEnv
        ? `SGFD_TENSORFLOW_DIR=${dir} has no binding at ${bindingPath}`
        : `the ${variant} engine is not built yet (no ${bindingPath}); npm start, npm test and sgfd commands build it on first use, ` +
            'or run `node --import tsx tools/tensorflow/engine.ts ensure`',
    );
  }
  process.env['TF_NUM_INTRAOP_THREADS'] ??= String(nativeThreadCount(env));
  // TensorFlow's default CPU allocator takes every large tensor from fresh mmap'd pages and returns it on
  // free, so each op on a 30 MB activation pays ~7k page faults; its BFC allocator keeps and reuses the
  // memory (it halves MAML's full ranking; README, backbones bench).
  process.env['TF_CPU_ALLOCATOR_USE_BFC'] ??= 'true';
  // TensorFlow's oneDNN and CPU-feature notices on stderr say nothing a user can act on.
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  const binding = require(bindingPath) as unknown;
  loadCustomOps(dir);
  require('@tensorflow/tfjs-node/dist/register_all_kernels');
  const { NodeJSKernelBackend } =
    require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend') as NodeKernelBackendModule;
  const packageName = variant === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  tf.registerBackend('tensorflow', () => new NodeJSKernelBackend(binding, packageName), 3);
}

/** Whether the active `tensorflow` backend runs its kernels on a GPU. */
export function nativeUsesGpu(): boolean {
  return (
    tf.getBackend() === 'tensorflow' &&
    (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true
  );
}
