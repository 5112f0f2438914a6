import { existsSync } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { withFileLock } from '../src/file-lock';
import { runToLog, tail } from '../src/logged-process';

/**
 * The S3-compatible server the tests run against: versitygw (Apache-2.0), S3 over a POSIX folder. v1.8.0
 * has no `replace` directives, so a plain `go install module/cmd/versitygw@version` accepts it.
 */
export const VERSITYGW_MODULE = 'github.com/versity/versitygw';
export const VERSITYGW_VERSION = 'v1.8.0';

export class VersitygwInstallError extends Error {
  override readonly name = 'VersitygwInstallError';
}

export interface VersitygwInstallResult {
  path: string;
  /** env: SGFD_VERSITYGW_PATH; cache: built before; built: built by this call. */
  source: 'env' | 'cache' | 'built';
  seconds: number;
}

export function versitygwCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'sgfd', 'versitygw', VERSITYGW_VERSION, 'versitygw');
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function build(target: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const versionDir = dirname(target);
  const tempBin = await mkdtemp(join(versionDir, '.build-'));
  const logFile = join(versionDir, 'build.log');
  const pkg = `${VERSITYGW_MODULE}/cmd/versitygw@${VERSITYGW_VERSION}`;
  log(
    `building versitygw ${VERSITYGW_VERSION} with \`go install ${pkg}\` (once per machine; ~1.5 min cold; log: ${logFile})`,
  );
  try {
    let code: number;
    try {
      code = await runToLog('go', ['install', pkg], { ...env, GOBIN: tempBin }, logFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new VersitygwInstallError(
          'Go is not installed (no `go` on PATH): install Go to build the S3 test server, ' +
            'or set SGFD_VERSITYGW_PATH to an existing `versitygw` binary',
        );
      }
      throw e;
    }
    if (code !== 0) {
      throw new VersitygwInstallError(
        `go install ${pkg} failed (exit ${code}); last lines of ${logFile}:\n${await tail(logFile)}`,
      );
    }
    const built = join(tempBin, 'versitygw');
    if (!(await isExecutable(built)))
      throw new VersitygwInstallError(`go install ${pkg} succeeded but produced no ${built}`);
    await chmod(built, 0o755);
    await rename(built, target);
  } finally {
    await rm(tempBin, { recursive: true, force: true });
  }
}

/**
 * Returns a versitygw binary: SGFD_VERSITYGW_PATH if set, else the cached build of the pinned version,
 * building it first if missing. Concurrent callers wait for one build (lock file); the binary appears under
 * its final name only when complete (built into a temp dir, then renamed).
 */
export async function ensureVersitygw(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<VersitygwInstallResult> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(`[sgfd] ${line}`));
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;

  const fromEnv = env['SGFD_VERSITYGW_PATH'];
  if (fromEnv) {
    if (!(await isExecutable(fromEnv)))
      throw new VersitygwInstallError(`SGFD_VERSITYGW_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'env', seconds: seconds() };
  }

  const target = versitygwCachePath(env);
  if (await isExecutable(target)) return { path: target, source: 'cache', seconds: seconds() };

  await mkdir(dirname(target), { recursive: true });
  let builtHere = false;
  await withFileLock(
    `${target}.lock`,
    async () => {
      if (existsSync(target) && (await isExecutable(target))) return;
      await build(target, env, log);
      builtHere = true;
    },
    { onWait: (holder) => log(`waiting for another build of versitygw (lock held by ${holder})`) },
  );
  if (builtHere) log(`versitygw ready in ${seconds().toFixed(0)} s: ${target}`);
  return { path: target, source: builtHere ? 'built' : 'cache', seconds: seconds() };
}
