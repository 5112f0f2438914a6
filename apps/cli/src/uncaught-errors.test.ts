import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', 'bin', 'sgfd.mjs');
const ESCAPE = join(HERE, 'test-support', 'escape-error.mjs');

/** The real `sgfd` with an error that escapes every await while a command runs. */
function sgfdWithEscapingError(
  kind: 'exception' | 'rejection',
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', ESCAPE, BIN, ...args],
      { env: { ...process.env, SGFD_TEST_ESCAPE: kind } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const missing = join(HERE, 'no-such-snapshot');

describe.concurrent('an error no command caught (uncaughtException, unhandledRejection)', () => {
  for (const kind of ['exception', 'rejection'] as const) {
    it(`is an internal error: exit 3, one JSON document with --json (${kind})`, async () => {
      const run = await sgfdWithEscapingError(kind, 'data', 'inspect', missing, '--json');
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toEqual({ error: { name: 'Error', message: `escaped ${kind}` } });
    });
  }

  it('prints one message and what to do, without a stack trace unless --debug', async () => {
    const plain = await sgfdWithEscapingError('exception', 'data', 'inspect', missing);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/^error: escaped exception\n/);
    expect(plain.stderr).toMatch(/This is a bug in sgfd \(exit 3\): run again with --debug/);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await sgfdWithEscapingError('exception', 'data', 'inspect', missing, '--debug');
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/\n\s+at .*escape-error\.mjs/);
  });
});
