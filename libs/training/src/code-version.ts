import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO } from '@sgfd/contracts';

const cache = new Map<string, string>();

function git(cwd: string, args: string[]): string | null {
  const out = spawnSync('git', args, { cwd, encoding: 'buffer', maxBuffer: 1 << 30 });
  return out.status === 0 ? out.stdout.toString('utf8') : null;
}

/**
 * A hash of what differs from HEAD: the diff of tracked files and the content of untracked, unignored
 * ones. Two different sets of uncommitted edits must not share artifacts keyed by the code version.
 */
function uncommittedHash(cwd: string): string {
  const hash = createHash('sha256');
  hash.update(git(cwd, ['diff', 'HEAD', '--binary']) ?? '');
  const top = git(cwd, ['rev-parse', '--show-toplevel'])?.trim() ?? cwd;
  const untracked = (git(cwd, ['ls-files', '--others', '--exclude-standard', '-z', '--full-name', ':/']) ?? '')
    .split('\0')
    .filter(Boolean)
    .sort();
  for (const path of untracked) {
    hash.update(`\0${path}\0`);
    try {
      hash.update(readFileSync(join(top, path)));
    } catch {
      hash.update('(unreadable)');
    }
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * The code a run was made with: SGFD_CODE_VERSION when set (deployments), else the version stamped into a
 * bundle by `npm run build` (dist/ has no checkout around it), else the git commit of this checkout, with
 * -dirty-<hash of the uncommitted changes> for local edits, else 'unknown'.
 */
export function codeVersion(cwd = dirname(fileURLToPath(import.meta.url))): string {
  const fromEnv = process.env['SGFD_CODE_VERSION'];
  if (fromEnv) return fromEnv;
  if (BUILD_INFO) return BUILD_INFO.codeVersion;
  const known = cache.get(cwd);
  if (known) return known;
  const described = git(cwd, ['describe', '--always', '--dirty', '--abbrev=12'])?.trim();
  let version = described ? `git:${described}` : 'unknown';
  if (described?.endsWith('-dirty')) version += `-${uncommittedHash(cwd)}`;
  cache.set(cwd, version);
  return version;
}
