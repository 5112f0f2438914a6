import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runToLog, tail } from '../src/logged-process';
import {
  PIP_WHEEL_OPTIONS,
  WHEEL_HEADER_PREFIX,
  WHEEL_HEADER_TREES,
  WHEEL_LIBRARIES,
  type EngineSource,
} from './engine-sources';

export class TensorflowEngineError extends Error {
  override readonly name = 'TensorflowEngineError';
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs a build step with its output in the log; a missing command or a failure is a TensorflowEngineError naming the step. */
export async function runLogged(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  what: string,
): Promise<void> {
  let code: number;
  try {
    code = await runToLog(cmd, args, env, logFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new TensorflowEngineError(`${what} needs \`${cmd}\`, which is not on PATH`);
    throw e;
  }
  if (code !== 0)
    throw new TensorflowEngineError(`${what} failed (exit ${code}); last lines of ${logFile}:\n${await tail(logFile)}`);
}

/** Downloads the pinned wheel with pip (its configured index) into `dir` and checks its sha256. */
export async function downloadWheel(
  source: EngineSource,
  dir: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<string> {
  await runLogged(
    'python3',
    ['-m', 'pip', 'download', source.requirement, ...PIP_WHEEL_OPTIONS, '--dest', dir, '--disable-pip-version-check'],
    env,
    logFile,
    `pip download ${source.requirement}`,
  );
  const files = await readdir(dir);
  if (!files.includes(source.file)) {
    throw new TensorflowEngineError(
      `pip download ${source.requirement} gave ${files.join(', ') || 'nothing'}, expected ${source.file}`,
    );
  }
  const wheel = join(dir, source.file);
  await verifyWheel(wheel, source);
  return wheel;
}

/** Throws unless the file's sha256 is the pinned one. */
export async function verifyWheel(wheel: string, source: EngineSource): Promise<void> {
  const sha256 = await sha256OfFile(wheel);
  if (sha256 !== source.sha256) {
    throw new TensorflowEngineError(
      `${wheel} has sha256 ${sha256}, expected ${source.sha256} (pinned in tools/tensorflow/engine-sources.ts)`,
    );
  }
}

// A wheel is a zip file; Python's zipfile (Python is there for pip) extracts the members the build needs.
const EXTRACT = `
import sys, zipfile, os, shutil
wheel, lib_dir, include_dir, libs, prefix, trees = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(','), sys.argv[5], sys.argv[6].split(',')
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for lib in libs:
        if lib not in names: sys.exit('missing ' + lib)
        with z.open(lib) as src, open(os.path.join(lib_dir, os.path.basename(lib)), 'wb') as dst: shutil.copyfileobj(src, dst, 1 << 24)
    count = 0
    for name in names:
        rel = name[len(prefix):] if name.startswith(prefix) else None
        if rel is None or name.endswith('/') or not any(rel.startswith(t) for t in trees): continue
        out = os.path.join(include_dir, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(name) as src, open(out, 'wb') as dst: shutil.copyfileobj(src, dst)
        count += 1
    if count == 0: sys.exit('no headers under ' + prefix)
`;

/** Extracts the two libraries into `libDir` and the C API's header trees into `includeDir`. */
export async function extractWheel(
  wheel: string,
  libDir: string,
  includeDir: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<void> {
  await runLogged(
    'python3',
    [
      '-c',
      EXTRACT,
      wheel,
      libDir,
      includeDir,
      WHEEL_LIBRARIES.join(','),
      WHEEL_HEADER_PREFIX,
      WHEEL_HEADER_TREES.join(','),
    ],
    env,
    logFile,
    `extracting ${wheel}`,
  );
}
