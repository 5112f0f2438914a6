import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  TENSORFLOW_VERSION,
  TFJS_NODE_VERSION,
  bindingPathIn,
  cachedEngineDir,
  customOpsPathIn,
  customOpsSourceSha256,
  engineInfoPathIn,
  readEngineInfo,
  type EngineInfo,
  type EngineVariant,
} from '@sgfd/tensor/native';
import { withFileLock } from '../src/file-lock';
import { buildBinding } from './binding-build';
import { buildCustomOps } from './custom-ops-build';
import { ENGINE_SOURCES } from './engine-sources';
import { TensorflowEngineError, downloadWheel, extractWheel } from './wheel';

export interface EngineInstallResult {
  dir: string;
  variant: EngineVariant;
  /** env: SGFD_TENSORFLOW_DIR; cache: built before; built: built by this call. */
  source: 'env' | 'cache' | 'built';
  seconds: number;
}

export interface EngineInstallOptions {
  variant?: EngineVariant;
  env?: NodeJS.ProcessEnv;
  /** Receives one human line per step (building, waiting for another build, done). */
  log?: (line: string) => void;
}

/** Binding, engine.json, and the custom ops built from the current source (else the engine is rebuilt). */
const isComplete = (dir: string) =>
  existsSync(bindingPathIn(dir)) &&
  existsSync(customOpsPathIn(dir)) &&
  readEngineInfo(dir)?.customOpsSha256 === customOpsSourceSha256();

/**
 * Loads the binding and then the custom ops in a child process (a broken library must not take the caller
 * down) and asks TF its version.
 */
function checkLoads(engineDir: string, env: NodeJS.ProcessEnv): void {
  const probe =
    `const b = require(${JSON.stringify(bindingPathIn(engineDir))}); ` +
    `process.dlopen({ exports: {} }, ${JSON.stringify(customOpsPathIn(engineDir))}); ` +
    'process.stdout.write(String(b.TF_Version));';
  const result = spawnSync(process.execPath, ['-e', probe], {
    env: { ...env, TF_CPP_MIN_LOG_LEVEL: '2' },
    encoding: 'utf8',
  });
  if (result.status !== 0 || result.stdout !== TENSORFLOW_VERSION) {
    throw new TensorflowEngineError(
      `the built binding does not load (exit ${result.status}, TF_Version ${JSON.stringify(result.stdout)}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}

async function build(
  variant: EngineVariant,
  target: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<number> {
  const started = Date.now();
  const versionDir = dirname(target);
  const logFile = `${target}.build.log`;
  await rm(logFile, { force: true });
  // We hold the lock: any temp dir left here is from a build that was killed.
  for (const entry of await readdir(versionDir)) {
    if (entry.startsWith(`.build-${basename(target)}-`))
      await rm(join(versionDir, entry), { recursive: true, force: true });
  }
  const tmp = await mkdtemp(join(versionDir, `.build-${basename(target)}-`));
  const source = ENGINE_SOURCES[variant];
  log(
    `building native TensorFlow ${TENSORFLOW_VERSION} (${variant}) for tfjs-node ${TFJS_NODE_VERSION} from ${source.requirement} (once per machine; log: ${logFile})`,
  );
  try {
    const wheel = await downloadWheel(source, join(tmp, 'download'), env, logFile);
    const engineDir = join(tmp, 'engine');
    await mkdir(join(engineDir, 'deps', 'lib'), { recursive: true });
    await mkdir(join(engineDir, 'deps', 'include'), { recursive: true });
    await extractWheel(wheel, join(engineDir, 'deps', 'lib'), join(engineDir, 'deps', 'include'), env, logFile);
    await rm(join(tmp, 'download'), { recursive: true, force: true });
    await buildBinding(engineDir, env, logFile);
    await buildCustomOps(engineDir, env, logFile);
    checkLoads(engineDir, env);
    // Only the binding, the custom ops and the libraries are needed at run time.
    for (const scratch of ['build', 'binding', 'binding.gyp', join('deps', 'include'), join('ops', 'sgfd_ops.cc')])
      await rm(join(engineDir, scratch), { recursive: true, force: true });
    const buildSeconds = (Date.now() - started) / 1000;
    const info: EngineInfo = {
      variant,
      tensorflowVersion: TENSORFLOW_VERSION,
      tfjsNodeVersion: TFJS_NODE_VERSION,
      source: { package: source.requirement, file: source.file, sha256: source.sha256 },
      builtAt: new Date().toISOString(),
      buildSeconds,
      customOpsSha256: customOpsSourceSha256(),
    };
    await writeFile(engineInfoPathIn(engineDir), `${JSON.stringify(info, null, 2)}\n`);
    await rename(engineDir, target);
    return buildSeconds;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Returns the native engine of a variant: SGFD_TENSORFLOW_DIR if set, else the cached build, building it
 * first if missing. Concurrent callers on one machine wait for one build (lock file); the engine appears
 * under its final name only when complete and loadable (built in a temp dir, checked, then renamed).
 */
export async function ensureTensorflowEngine(options: EngineInstallOptions = {}): Promise<EngineInstallResult> {
  const { variant = 'cpu', env = process.env } = options;
  const log = options.log ?? ((line: string) => console.error(`[sgfd] ${line}`));
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;

  const own = env['SGFD_TENSORFLOW_DIR'];
  if (own) {
    if (!existsSync(bindingPathIn(own)))
      throw new TensorflowEngineError(`SGFD_TENSORFLOW_DIR=${own} has no binding at ${bindingPathIn(own)}`);
    return { dir: own, variant, source: 'env', seconds: seconds() };
  }
  const target = cachedEngineDir(variant, env);
  if (isComplete(target)) return { dir: target, variant, source: 'cache', seconds: seconds() };

  await mkdir(dirname(target), { recursive: true });
  let builtHere = false;
  await withFileLock(
    `${target}.lock`,
    async () => {
      if (isComplete(target)) return;
      // No engine.json (a rename that never happened, a hand edit) or custom ops built from another source: rebuild.
      await rm(target, { recursive: true, force: true });
      const took = await build(variant, target, env, log);
      log(`native TensorFlow (${variant}) ready in ${took.toFixed(0)} s: ${target}`);
      builtHere = true;
    },
    { onWait: (holder) => log(`waiting for another build of native TensorFlow (lock held by ${holder})`) },
  );
  return { dir: target, variant, source: builtHere ? 'built' : 'cache', seconds: seconds() };
}
