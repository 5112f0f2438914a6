import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWorkerApp } from '@sgfd/tools/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const worker = (...args: string[]) => runWorkerApp(MAIN, ...args);

describe('worker-ingest app', { timeout: 60_000 }, () => {
  it('--help names its task queue and its flags', async () => {
    const help = await worker('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('task queue sgfd-ingest and hosts the workflows on sgfd-workflows');
    for (const flag of ['--address', '--namespace', '--artifacts', '--max-activities'])
      expect(help.stdout).toContain(flag);
  });

  it('refuses a concurrency that is not a positive integer, with usage (exit 2)', async () => {
    const bad = await worker('--max-activities', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^--max-activities must be a positive integer, got '0'\nusage:/);
  });
});

describe('worker-ingest without a server', { timeout: 60_000 }, () => {
  it('exits 1 with one line saying it cannot reach Temporal and why', async () => {
    const result = await worker('--address', '127.0.0.1:1');
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      '[worker-ingest] ERROR Cannot reach Temporal at 127.0.0.1:1 (namespace default, from flag): Connection refused; check the address and that the server is running',
    ]);
  });
});
