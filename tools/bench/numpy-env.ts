import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sgfdCacheRoot } from '@sgfd/tensor/native';
import { withFileLock } from '../src/file-lock';

/** The numpy the reference runs on, pinned; installed once into a virtual environment in the cache. */
export const NUMPY_REQUIREMENT = 'numpy==2.4.6';

/**
 * A Python with the pinned numpy: `<cache>/sgfd/bench-python/<numpy version>/bin/python`, made with
 * `python3 -m venv` and pip on first use. A failure is a notice, not an error: the ratio is then skipped.
 */
export async function numpyPython(env: NodeJS.ProcessEnv = process.env): Promise<string | { notice: string }> {
  const venv = join(sgfdCacheRoot(env), 'bench-python', NUMPY_REQUIREMENT.replace('==', '-'));
  const python = join(venv, 'bin', 'python');
  const ready = () => existsSync(join(venv, '.complete'));
  if (ready()) return python;
  mkdirSync(dirname(venv), { recursive: true });
  return withFileLock(`${venv}.lock`, async () => {
    if (ready()) return python;
    console.error(`[sgfd] installing ${NUMPY_REQUIREMENT} for the numpy reference into ${venv} (once per machine)`);
    const steps: [string, string[]][] = [
      ['python3', ['-m', 'venv', '--clear', venv]],
      [python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', NUMPY_REQUIREMENT]],
      ['touch', [join(venv, '.complete')]],
    ];
    for (const [cmd, args] of steps) {
      const result = spawnSync(cmd, args, { encoding: 'utf8', env });
      if (result.status !== 0)
        return {
          notice: `${cmd} ${args.join(' ')} failed: ${(result.stderr || String(result.error)).trim().split('\n').pop()}`,
        };
    }
    return python;
  });
}
