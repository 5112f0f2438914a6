import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CUSTOM_OPS_SOURCE, customOpsPathIn } from '@sgfd/tensor/native';
import { TensorflowEngineError, runLogged } from './wheel';

/**
 * Compiles @sgfd/tensor's own ops against the wheel's headers into `<engine>/ops/sgfd_ops.node`, linked to
 * the engine's libtensorflow_framework (the flags of tf.sysconfig: C++17, the C++11 ABI, Eigen's 64-byte
 * alignment). -march=native: the engine is built per machine, and Eigen's vector code needs the machine's
 * widest instructions (AVX2 + FMA here).
 */
export async function buildCustomOps(engineDir: string, env: NodeJS.ProcessEnv, logFile: string): Promise<void> {
  const source = join(engineDir, 'ops', 'sgfd_ops.cc');
  const output = customOpsPathIn(engineDir);
  await mkdir(dirname(output), { recursive: true });
  await writeFile(source, CUSTOM_OPS_SOURCE);
  const libDir = join(engineDir, 'deps', 'lib');
  await runLogged(
    env['CXX'] || 'g++',
    [
      '-std=c++17',
      '-shared',
      '-fPIC',
      '-O3',
      '-march=native',
      '-D_GLIBCXX_USE_CXX11_ABI=1',
      '-DEIGEN_MAX_ALIGN_BYTES=64',
      `-I${join(engineDir, 'deps', 'include')}`,
      source,
      '-o',
      output,
      `-L${libDir}`,
      '-l:libtensorflow_framework.so.2',
      '-Wl,-rpath,$ORIGIN/../deps/lib',
    ],
    env,
    logFile,
    'compiling the custom TensorFlow ops (g++)',
  );
  if (!existsSync(output)) throw new TensorflowEngineError(`g++ succeeded but produced no ${output}`);
}
