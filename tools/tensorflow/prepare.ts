import { cudaDeviceVisible, type EngineVariant } from '@sgfd/tensor/native';
import { ensureTensorflowEngine } from './install';

/** The engines worth having here: the CUDA build where a device is visible (or SGFD_TENSORFLOW_GPU=1), and always the CPU build, its fallback. */
export function wantedVariants(env: NodeJS.ProcessEnv): EngineVariant[] {
  const gpu = env['SGFD_TENSORFLOW_GPU'] === '1' || cudaDeviceVisible(env);
  return gpu ? ['gpu', 'cpu'] : ['cpu'];
}

/**
 * Makes the native engine available before a process picks its tensor backend: builds it on first use,
 * reuses the cache afterwards. Never throws: a failure is one log line, and initBackend then falls back
 * to wasm. Nothing is built when SGFD_BACKEND asks for wasm or cpu, or SGFD_TENSORFLOW_DIR names a build.
 */
export async function prepareTensorflowEngine(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<void> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(`[sgfd] ${line}`));
  const forced = env['SGFD_BACKEND'];
  if (forced === 'wasm' || forced === 'cpu' || env['SGFD_TENSORFLOW_DIR']) return;
  for (const variant of wantedVariants(env)) {
    try {
      await ensureTensorflowEngine({ variant, env, log });
    } catch (error) {
      log(
        `native TensorFlow (${variant}) is not available, so tensors run on a fallback backend: ${(error as Error).message.split('\n')[0]}`,
      );
    }
  }
}
