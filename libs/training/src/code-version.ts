import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The code a run was made with: SGFD_CODE_VERSION when set (deployments), else the git commit of this
 * checkout (with -dirty for local changes), else 'unknown'.
 */
export function codeVersion(): string {
  if (cached) return cached;
  const fromEnv = process.env['SGFD_CODE_VERSION'];
  if (fromEnv) return (cached = fromEnv);
  const git = spawnSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], {
    cwd: dirname(fileURLToPath(import.meta.url)),
    encoding: 'utf8',
  });
  cached = git.status === 0 && git.stdout.trim() ? `git:${git.stdout.trim()}` : 'unknown';
  return cached;
}
