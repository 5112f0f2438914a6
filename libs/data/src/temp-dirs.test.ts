import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, releaseTempDir, removeActiveTempDirsSync, removeTempDir } from './temp-dirs';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sgfd-temp-dirs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('temp directories of this process', () => {
  it('are removed by a signal handled after mkdir made the directory but before its callback ran', async () => {
    const creating = createTempDir(root, 'race');
    // Never yielding to the event loop, so mkdir's callback cannot run: exactly a signal's window.
    let names: string[] = [];
    const deadline = Date.now() + 10_000;
    while (names.length === 0 && Date.now() < deadline) names = readdirSync(root).filter((n) => n.includes('race'));
    expect(names).toHaveLength(1);
    expect(removeActiveTempDirsSync()).toEqual([join(root, names[0]!)]);
    expect(existsSync(join(root, names[0]!))).toBe(false);
    await creating;
  });

  it('report only directories that exist; renamed or removed ones are forgotten', async () => {
    const kept = await createTempDir(root, 'kept');
    const renamed = await createTempDir(root, 'renamed');
    const removed = await createTempDir(root, 'removed');
    releaseTempDir(renamed);
    await removeTempDir(removed);
    expect(removeActiveTempDirsSync()).toEqual([kept]);
    expect(existsSync(kept)).toBe(false);
    expect(existsSync(renamed)).toBe(true);
    expect(removeActiveTempDirsSync()).toEqual([]);
  });
});
