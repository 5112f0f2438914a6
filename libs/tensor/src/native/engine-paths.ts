import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CUSTOM_OPS_SOURCE } from './ops/custom-ops-source';

/**
 * Where the native engine lives. `tools/tensorflow` builds it there; `initBackend` loads it from there.
 * An engine directory has the layout of an installed @tensorflow/tfjs-node package, so a user's own
 * tfjs-node(-gpu) install with its binding works as `SGFD_TENSORFLOW_DIR` too:
 *   lib/napi-v8/tfjs_binding.node   the N-API binding (rpath $ORIGIN/../../deps/lib)
 *   deps/lib/libtensorflow*.so*     the TensorFlow C library
 *   engine.json                     what was built from what (absent in a user's own directory)
 */
export const TENSORFLOW_VERSION = '2.18.0';
/** The tfjs-node release whose binding source and JS backend are used; equal to the tfjs version in use. */
export const TFJS_NODE_VERSION = '4.22.0';
/** N-API version the binding is built for: Node >= 20.3 (package.json engines) has 8 and more. */
export const NAPI_VERSION = 8;

export type EngineVariant = 'cpu' | 'gpu';

export interface EngineInfo {
  variant: EngineVariant;
  tensorflowVersion: string;
  tfjsNodeVersion: string;
  /** The registry package the library and headers came from, and its checksum. */
  source: { package: string; file: string; sha256: string };
  builtAt: string;
  buildSeconds: number;
  /** sha256 of the custom ops' source they were built from (absent: built without them). */
  customOpsSha256?: string;
}

/** `${XDG_CACHE_HOME:-~/.cache}/sgfd`: the per-machine cache of built tools. */
export function sgfdCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'sgfd');
}

export function tensorflowCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(sgfdCacheRoot(env), 'tensorflow');
}

/** The cached engine of one variant: `<cache>/sgfd/tensorflow/<TF version>/tfjs-node-<version>-<variant>`. */
export function cachedEngineDir(variant: EngineVariant, env: NodeJS.ProcessEnv = process.env): string {
  return join(tensorflowCacheRoot(env), TENSORFLOW_VERSION, `tfjs-node-${TFJS_NODE_VERSION}-${variant}`);
}

export function bindingPathIn(engineDir: string): string {
  return join(engineDir, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node');
}

/** The library of @sgfd/tensor's own TensorFlow ops (ops/custom-ops-source.ts), built with the engine. */
export function customOpsPathIn(engineDir: string): string {
  return join(engineDir, 'ops', 'sgfd_ops.node');
}

/** sha256 of the custom ops' source: a cached engine built from another source is rebuilt. */
export function customOpsSourceSha256(): string {
  return createHash('sha256').update(CUSTOM_OPS_SOURCE).digest('hex');
}

export function engineInfoPathIn(engineDir: string): string {
  return join(engineDir, 'engine.json');
}

/** The engine to load for a variant: `SGFD_TENSORFLOW_DIR` when set (a user's own build), else the cache. */
export function engineDirFor(
  variant: EngineVariant,
  env: NodeJS.ProcessEnv = process.env,
): { dir: string; fromEnv: boolean } {
  const own = env['SGFD_TENSORFLOW_DIR'];
  return own ? { dir: own, fromEnv: true } : { dir: cachedEngineDir(variant, env), fromEnv: false };
}

export function readEngineInfo(engineDir: string): EngineInfo | undefined {
  const file = engineInfoPathIn(engineDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as EngineInfo;
}
