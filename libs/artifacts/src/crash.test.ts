import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileArtifactStore } from './file-store';
import { artifactKey } from './keys';

const crashBuild = fileURLToPath(new URL('./fixtures/crash-build.ts', import.meta.url));

/** Runs the crash fixture until it reports it is mid-write, then SIGKILLs it. */
function buildAndKill(root: string, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', crashBuild, root, key], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('mid-write')) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`crash fixture ended without being killed: ${stderr}`)),
    );
  });
}

describe('a builder killed mid-write', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sgfd-crash-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('leaves nothing visible, and the next build succeeds and clears the dead staging area', async () => {
    const key = artifactKey({ inputs: ['crash'], config: {}, codeVersion: 'test' });
    await buildAndKill(root, key);

    const store = new FileArtifactStore(root);
    expect(await store.exists({ kind: 'teacher', key })).toBe(false);
    expect(await store.list()).toEqual([]);
    expect(existsSync(join(root, 'teacher', key))).toBe(false);
    // The half-written files are still there, but only in the dead process's private staging area.
    const staged = await readdir(join(root, '.staging'));
    expect(staged).toHaveLength(1);
    expect(existsSync(join(root, '.staging', staged[0]!, 'outputs', 'logits.bin'))).toBe(true);

    const rebuilt = await store.withArtifact({ kind: 'teacher', key }, async (staging) => {
      await writeFile(await staging.path('weights.bin'), new Uint8Array(4096).fill(7));
      return { complete: true };
    });
    expect(rebuilt.reused).toBe(false);
    expect(rebuilt.manifest.files.map((f) => f.path)).toEqual(['weights.bin']);
    expect(await readdir(join(root, '.staging'))).toEqual([]);
  }, 30_000);
});
