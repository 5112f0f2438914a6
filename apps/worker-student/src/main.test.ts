import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWorkerApp } from '@sgfd/tools/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const worker = (...args: string[]) => runWorkerApp(MAIN, ...args);

// Flag parsing, shutdown and connection errors are the shared hosting code, tested with worker-ingest.
describe('worker-student app', { timeout: 60_000 }, () => {
  it('--help names its task queue and its flags', async () => {
    const help = await worker('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('task queue sgfd-student.');
    for (const flag of ['--address', '--namespace', '--artifacts', '--max-activities'])
      expect(help.stdout).toContain(flag);
  });
});
