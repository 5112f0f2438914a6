import { tf } from '../tf';

type KernelConfig = ReturnType<typeof tf.getKernel>;
type TfKernelFunc = KernelConfig['kernelFunc'];

/** tfjs's kernel signature with the backend typed (tfjs declares it as `{}`). */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: tf.KernelBackend;
  attrs?: Record<string, unknown>;
}
export type KernelFunc = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const stockKernels = new Map<string, KernelConfig | undefined>();
const overridden = new Set<string>();

const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;

/**
 * Replaces (or adds) a kernel for one backend, keeping the stock one so the override can delegate the
 * cases it does not speed up. Registering the same override twice is a no-op.
 */
export function overrideKernel(
  kernelName: string,
  backendName: string,
  makeKernel: (stock: KernelFunc | undefined) => KernelFunc,
): void {
  const id = key(kernelName, backendName);
  if (overridden.has(id)) return;
  const stock = tf.getKernel(kernelName, backendName);
  stockKernels.set(id, stock);
  if (stock) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({
    kernelName,
    backendName,
    kernelFunc: makeKernel(stock?.kernelFunc as KernelFunc | undefined) as unknown as TfKernelFunc,
    // The stock setup binds wasm functions the override may delegate to; keep it on the registration.
    setupFunc: stock?.setupFunc,
    disposeFunc: stock?.disposeFunc,
  });
  overridden.add(id);
}

/** Puts the stock kernel back (tests and benchmarks compare the two in one process). */
export function restoreStockKernel(kernelName: string, backendName: string): void {
  const id = key(kernelName, backendName);
  if (!overridden.has(id)) return;
  tf.unregisterKernel(kernelName, backendName);
  const stock = stockKernels.get(id);
  if (stock) tf.registerKernel(stock);
  overridden.delete(id);
}

export function isOverridden(kernelName: string, backendName: string): boolean {
  return overridden.has(key(kernelName, backendName));
}
