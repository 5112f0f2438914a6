import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from './file-lock';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withFileLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lets only one caller at a time into the guarded section and removes the lock after', async () => {
    const lock = join(dir, 'build.lock');
    const events: string[] = [];
    const section = (name: string) => async () => {
      events.push(`${name} in`);
      await sleep(100);
      events.push(`${name} out`);
      return name;
    };
    const results = await Promise.all([
      withFileLock(lock, section('a'), { pollMs: 10 }),
      withFileLock(lock, section('b'), { pollMs: 10 }),
      withFileLock(lock, section('c'), { pollMs: 10 }),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]!.split(' ')[0]).toBe(events[i + 1]!.split(' ')[0]);
    }
    expect(existsSync(lock)).toBe(false);
  });

  it('releases the lock when the guarded section throws', async () => {
    const lock = join(dir, 'build.lock');
    await expect(withFileLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('breaks a lock left by a process that died', async () => {
    const lock = join(dir, 'build.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    await writeFile(lock, `${dead} ${hostname()}\n`);
    await expect(withFileLock(lock, async () => 'got it', { timeoutMs: 2_000 })).resolves.toBe('got it');
  });

  it('waits for a live holder and tells the caller whom it waits for', async () => {
    const lock = join(dir, 'build.lock');
    await writeFile(lock, `${process.pid} ${hostname()}\n`);
    const seen: string[] = [];
    const error = await withFileLock(lock, async () => 'never', {
      timeoutMs: 300,
      pollMs: 20,
      onWait: (h) => seen.push(h),
    }).catch((e: Error) => e);
    expect((error as Error).message).toContain('Timed out');
    expect(seen).toEqual([`${process.pid} ${hostname()}`]);
  });
});
