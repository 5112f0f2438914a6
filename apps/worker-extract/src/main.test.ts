import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs this worker app as a process, as a deployment does. */
function worker(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { env: { ...process.env, SGFD_LOG_FORMAT: 'text' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

// Flag parsing, shutdown and connection errors are the shared hosting code, tested with worker-ingest.
describe('worker-extract app', { timeout: 60_000 }, () => {
  it('--help names its task queue and its flags', async () => {
    const help = await worker('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('task queue sgfd-extract.');
    for (const flag of ['--address', '--namespace', '--artifacts', '--max-activities'])
      expect(help.stdout).toContain(flag);
  });
});
