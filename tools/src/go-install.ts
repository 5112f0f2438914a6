// Builds a pinned Go command with `go install` into a temp dir beside its cache path, then renames it into
// place, so the binary appears under its final name only when complete. Used by the Temporal CLI and versitygw.
import { access, chmod, constants, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runToLog, tail } from './logged-process';

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface GoInstallSpec {
  /** `<module>/cmd/<name>@<version>`. */
  pkg: string;
  /** The binary `go install` writes (the command's name). */
  binary: string;
  /** Where the finished binary goes; its folder also holds build.log. */
  target: string;
  /** What to tell a user without Go. */
  noGoHint: string;
  /** The error type of the caller's installer. */
  fail: (message: string) => Error;
}

/** Builds `spec.pkg` into `spec.target`; `describe` is the start-of-build line (it gets the log path). */
export async function goInstallBinary(
  spec: GoInstallSpec,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  describe: (logFile: string) => string,
): Promise<void> {
  const { pkg, binary, target, noGoHint, fail } = spec;
  const versionDir = dirname(target);
  const tempBin = await mkdtemp(join(versionDir, '.build-'));
  const logFile = join(versionDir, 'build.log');
  log(describe(logFile));
  try {
    let code: number;
    try {
      code = await runToLog('go', ['install', pkg], { ...env, GOBIN: tempBin }, logFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw fail(`Go is not installed (no \`go\` on PATH): ${noGoHint}`);
      throw e;
    }
    if (code !== 0)
      throw fail(`go install ${pkg} failed (exit ${code}); last lines of ${logFile}:\n${await tail(logFile)}`);
    const built = join(tempBin, binary);
    if (!(await isExecutable(built))) throw fail(`go install ${pkg} succeeded but produced no ${built}`);
    await chmod(built, 0o755);
    await rename(built, target);
  } finally {
    await rm(tempBin, { recursive: true, force: true });
  }
}
