import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { withFileLock } from '../src/file-lock';
import { goInstallBinary, isExecutable } from '../src/go-install';

/**
 * The Temporal CLI release we build. v1.5.1's go.mod has no `replace` directives, so a plain
 * `go install module/cmd/temporal@version` accepts it (see README, "Temporal server").
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export class TemporalInstallError extends Error {
  override readonly name = 'TemporalInstallError';
}

export interface InstallResult {
  path: string;
  /** env: TEMPORAL_CLI_PATH; cache: built before; built: built by this call. */
  source: 'env' | 'cache' | 'built';
  seconds: number;
}

export interface InstallOptions {
  env?: NodeJS.ProcessEnv;
  /** Receives one human line per step (building, waiting for another build, done). */
  log?: (line: string) => void;
}

export function temporalCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'sgfd', 'temporal');
}

export function temporalCliCachePath(env: NodeJS.ProcessEnv = process.env, version = TEMPORAL_CLI_VERSION): string {
  return join(temporalCacheRoot(env), version, 'temporal');
}

async function build(target: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const pkg = `${TEMPORAL_CLI_MODULE}/cmd/temporal@${TEMPORAL_CLI_VERSION}`;
  const spec = {
    pkg,
    binary: 'temporal',
    target,
    noGoHint: 'install Go >= 1.25 to build the Temporal CLI, or set TEMPORAL_CLI_PATH to an existing `temporal` binary',
    fail: (m: string) => new TemporalInstallError(m),
  };
  await goInstallBinary(
    spec,
    env,
    log,
    (logFile) =>
      `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with \`go install ${pkg}\` (once per machine; ~5 min cold on 2 cores; log: ${logFile})`,
  );
}

/**
 * Returns a Temporal CLI binary: TEMPORAL_CLI_PATH if set, else the cached build for the pinned version,
 * building it first if missing. Concurrent callers on one machine wait for a single build (lock file);
 * the binary appears under its final name only when complete (built into a temp dir, then renamed).
 */
export async function ensureTemporalCli(options: InstallOptions = {}): Promise<InstallResult> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(`[sgfd] ${line}`));
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;

  const fromEnv = env['TEMPORAL_CLI_PATH'];
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new TemporalInstallError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    }
    return { path: fromEnv, source: 'env', seconds: seconds() };
  }

  const target = temporalCliCachePath(env);
  if (await isExecutable(target)) return { path: target, source: 'cache', seconds: seconds() };

  await mkdir(dirname(target), { recursive: true });
  let builtHere = false;
  await withFileLock(
    `${target}.lock`,
    async () => {
      // Another process may have finished the build while we waited for the lock.
      if (existsSync(target) && (await isExecutable(target))) return;
      await build(target, env, log);
      builtHere = true;
    },
    { onWait: (holder) => log(`waiting for another build of the Temporal CLI (lock held by ${holder})`) },
  );
  if (builtHere) log(`Temporal CLI ready in ${seconds().toFixed(0)} s: ${target}`);
  return { path: target, source: builtHere ? 'built' : 'cache', seconds: seconds() };
}
