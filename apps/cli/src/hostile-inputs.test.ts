import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as data from './commands/data';
import * as train from './commands/train';
import { HOSTILE_CASES, type HostileCase } from './test-support/hostile-corpus';
import { runCliCapturing } from './test-support/run-in-process';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'sgfd.mjs');
const NOBODY = 65534;
const STACK_LINE = /\n\s+at /;
const USER_ERRORS = ['DatasetError', 'ConfigError', 'EnvironmentError', 'UsageError'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-hostile-'));
  await chmod(work, 0o755);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The real executable as an unprivileged user (root ignores permissions, so those cases need another uid). */
function sgfdAsNobody(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: work, uid: NOBODY, gid: NOBODY, env: { ...process.env, SGFD_HOME: join(work, 'home') } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function run(testCase: HostileCase, args: string[]): Promise<Run> {
  const asNobody = testCase.unprivileged && process.getuid?.() === 0;
  return asNobody ? sgfdAsNobody(args) : runCliCapturing([data, train], args);
}

const listing = (dir: string): Promise<string[] | null> =>
  readdir(dir).then(
    (names) => names.sort(),
    () => null,
  );

describe('hostile and careless inputs (each through the CLI: exit code, message, no stack trace, nothing left in --out)', () => {
  let n = 0;
  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const dir = join(work, `case-${n++}`);
    const out = join(dir, 'out');
    // Readable by the unprivileged user of the permission cases.
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const args = await testCase.build(dir, out);
    const before = await listing(out);

    const plain = await run(testCase, args);
    expect(plain.code, plain.stderr).toBe(testCase.code);
    for (const pattern of testCase.says) expect(plain.stderr).toMatch(pattern);
    expect(plain.stderr).toMatch(/^error: /);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    expect(plain.stdout).toBe('');
    expect(await listing(out)).toEqual(before);

    const json = await run(testCase, [...args, '--json']);
    expect(json.code).toBe(testCase.code);
    expect(json.stdout).toBe('');
    const lines = json.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const body = JSON.parse(lines[0]!) as { error: { name: string; message: string; stack?: string } };
    expect(USER_ERRORS).toContain(body.error.name);
    expect(body.error.message).toMatch(testCase.says[0]!);
    expect(body.error.stack).toBeUndefined();
    expect(await listing(out)).toEqual(before);
  });
});
