import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NAPI_VERSION, TFJS_NODE_VERSION, bindingPathIn } from '@sgfd/tensor/native';
import { TensorflowEngineError, runLogged } from './wheel';

// Resolved from this module (tools/ in a checkout, dist/ in a bundle), as @sgfd/tensor loads it.
const require = createRequire(import.meta.url);

/** The installed @tensorflow/tfjs-node package (its binding source), checked against the pinned version. */
export async function tfjsNodePackageDir(): Promise<string> {
  const pkgJson = require.resolve('@tensorflow/tfjs-node/package.json');
  const { version } = JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string };
  if (version !== TFJS_NODE_VERSION) {
    throw new TensorflowEngineError(
      `@tensorflow/tfjs-node ${version} is installed, but the engine is pinned to ${TFJS_NODE_VERSION}`,
    );
  }
  return dirname(pkgJson);
}

/** Node's headers (include/node/node_api.h) beside the running node, which node-gyp would otherwise download. */
export function nodeHeadersDir(env: NodeJS.ProcessEnv): string {
  const candidates = [env['npm_config_nodedir'], dirname(dirname(process.execPath))].filter((d): d is string => !!d);
  const found = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
  if (!found) {
    throw new TensorflowEngineError(
      `Node's C headers were not found (no include/node/node_api.h under ${candidates.join(' or ')}); install Node with its headers or set npm_config_nodedir`,
    );
  }
  return found;
}

/**
 * Builds tfjs-node's binding in `engineDir`, which already holds deps/lib and deps/include, with node-gyp
 * and tfjs-node's own binding.gyp (links -ltensorflow -ltensorflow_framework, rpath $ORIGIN/../../deps/lib).
 */
export async function buildBinding(engineDir: string, env: NodeJS.ProcessEnv, logFile: string): Promise<void> {
  const pkg = await tfjsNodePackageDir();
  await cp(join(pkg, 'binding'), join(engineDir, 'binding'), { recursive: true });
  await copyFile(join(pkg, 'binding.gyp'), join(engineDir, 'binding.gyp'));
  const libDir = join(engineDir, 'deps', 'lib');
  // The names binding.gyp links against: libtensorflow_cc exports the C API that libtensorflow would.
  await symlink('libtensorflow_cc.so.2', join(libDir, 'libtensorflow.so.2'));
  await symlink('libtensorflow_cc.so.2', join(libDir, 'libtensorflow.so'));
  await symlink('libtensorflow_framework.so.2', join(libDir, 'libtensorflow_framework.so'));
  const binding = bindingPathIn(engineDir);
  await mkdir(dirname(binding), { recursive: true });
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  // cwd is the engine dir: node-gyp builds the binding.gyp it finds there.
  await runLogged(
    process.execPath,
    [
      nodeGyp,
      'rebuild',
      `--directory=${engineDir}`,
      `--nodedir=${nodeHeadersDir(env)}`,
      '--module_name=tfjs_binding',
      `--module_path=${dirname(binding)}`,
      `--napi_build_version=${NAPI_VERSION}`,
      `--jobs=max`,
    ],
    env,
    logFile,
    'building the tfjs-node binding (node-gyp)',
  );
  if (!existsSync(binding)) throw new TensorflowEngineError(`node-gyp succeeded but produced no ${binding}`);
}
