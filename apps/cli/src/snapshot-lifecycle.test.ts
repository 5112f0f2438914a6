import { execFile, spawn } from 'node:child_process';
import { readFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMmrecFolder, writeSlowMmrecFolder } from '@sgfd/data/testing';
import * as data from './commands/data';
import { runCliCapturing } from './test-support/run-in-process';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'sgfd.mjs');

let work: string;
let slowFolder: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-lifecycle-'));
  slowFolder = await writeSlowMmrecFolder(join(work, 'slow'), 3000, 1024);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const tempDirs = async (out: string): Promise<string[]> =>
  (await readdir(out).catch(() => [] as string[])).filter((n) => n.startsWith('.tmp-'));

/** Starts `sgfd data import mmrec` on the slow folder and sends `signal` once its temp directory exists. */
async function interruptedImport(
  out: string,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sawTemp: string[] }> {
  const child = spawn(process.execPath, [BIN, 'data', 'import', 'mmrec', slowFolder, '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  let sawTemp: string[] = [];
  const deadline = Date.now() + 60_000;
  while (sawTemp.length === 0 && Date.now() < deadline && child.exitCode === null) {
    sawTemp = await tempDirs(out);
    if (sawTemp.length === 0) await new Promise((r) => setTimeout(r, 3));
  }
  child.kill(signal);
  return { ...(await exited), stderr, sawTemp };
}

describe('temp directories of an interrupted import', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s removes the temp directory before the signal ends the process',
    async (signal) => {
      const out = join(work, `out-${signal}`);
      const result = await interruptedImport(out, signal);
      expect(result.sawTemp, 'the import was interrupted while writing').toHaveLength(1);
      expect(result.sawTemp[0]).toMatch(new RegExp(`^\\.tmp-[0-9a-f]{12}-\\d+@`));
      expect(result.signal).toBe(signal);
      expect(result.stderr).toMatch(
        new RegExp(
          `^error: Interrupted by ${signal}; removed the partial output .*${result.sawTemp[0]!.replace(/\./g, '\\.')}`,
        ),
      );
      expect(await readdir(out)).toEqual([]);
    },
  );

  it('a temp directory left by SIGKILL is swept by the next import, which then succeeds', async () => {
    const out = join(work, 'out-SIGKILL');
    const killed = await interruptedImport(out, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(await tempDirs(out)).toEqual(killed.sawTemp);
    expect(killed.sawTemp).toHaveLength(1);

    const small = await writeMmrecFolder(join(work, 'small-after-kill'));
    const again = await runCliCapturing([data], ['data', 'import', 'mmrec', small, '--out', out, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(await tempDirs(out)).toEqual([]);
    expect((await readdir(out)).length).toBe(1);
  });

  it('a temp directory of a live process is left alone', async () => {
    const out = join(work, 'out-live');
    await writeMmrecFolder(join(work, 'small'));
    const { mkdir } = await import('node:fs/promises');
    const { hostname } = await import('node:os');
    // This test process is alive; the sweeper must not touch its directory.
    const live = `.tmp-0123456789ab-${process.ppid}@${hostname().replace(/[^A-Za-z0-9.]/g, '_')}-0badc0de`;
    await mkdir(join(out, live), { recursive: true });
    const result = await runCliCapturing(
      [data],
      ['data', 'import', 'mmrec', join(work, 'small'), '--out', out, '--json'],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await tempDirs(out)).toEqual([live]);
  });
});

describe('an existing snapshot on re-import', () => {
  async function imported(name: string): Promise<{ out: string; dir: string; id: string }> {
    const folder = await writeMmrecFolder(join(work, `${name}-in`));
    const out = join(work, `${name}-out`);
    const first = await runCliCapturing([data], ['data', 'import', 'mmrec', folder, '--out', out, '--json']);
    expect(first.code, first.stderr).toBe(0);
    return { out, ...(JSON.parse(first.stdout) as { dir: string; id: string }) };
  }
  const reimport = (name: string, out: string) =>
    runCliCapturing([data], ['data', 'import', 'mmrec', join(work, `${name}-in`), '--out', out, '--json']);

  it('is verified: a damaged image.arrow is noticed and the snapshot rewritten', async () => {
    const { out, dir } = await imported('damaged-arrow');
    const path = join(dir, 'image.arrow');
    const good = await readFile(path);
    const bad = Buffer.from(good);
    bad[bad.length - 40] ^= 0xff;
    await writeFile(path, bad);
    const again = await reimport('damaged-arrow', out);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: true, repaired: true });
    expect(await readFile(path)).toEqual(good);
    expect(await readdir(out)).toHaveLength(1);
    const inspect = await runCliCapturing([data], ['data', 'inspect', dir, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
  });

  it('with a corrupt manifest.json is repaired, not a stack trace', async () => {
    const { out, dir } = await imported('corrupt-manifest');
    await writeFile(join(dir, 'manifest.json'), '{ "schemaVersion": 1, ');
    const inspect = await runCliCapturing([data], ['data', 'inspect', dir]);
    expect(inspect.code).toBe(1);
    const again = await runCliCapturing(
      [data],
      ['data', 'import', 'mmrec', join(work, 'corrupt-manifest-in'), '--out', out],
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/repaired: the existing copy was damaged and has been rewritten/);
    expect((await runCliCapturing([data], ['data', 'inspect', dir])).code).toBe(0);
    expect(await readdir(out)).toHaveLength(1);
  });

  it('an intact one is verified and left as it is', async () => {
    const { out, dir } = await imported('intact');
    const before = (await stat(join(dir, 'manifest.json'))).mtimeMs;
    const again = await reimport('intact', out);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false });
    expect((await stat(join(dir, 'manifest.json'))).mtimeMs).toBe(before);
  });

  it('written by an older version with 100,000,001 categories is refused by inspect with a message, not a crash', async () => {
    const { dir } = await imported('legacy-categories');
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { categories: number };
    await writeFile(manifestPath, JSON.stringify({ ...manifest, categories: 100_000_001 }));
    const inspect = await runCliCapturing([data], ['data', 'inspect', dir]);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toMatch(/Snapshot has more categories than items/);
    expect(inspect.stderr).toContain(`${manifestPath}, field 'categories'`);
  });

  it('snapshot folders get the usual permissions (umask applies), not 0700', async () => {
    const { dir } = await imported('mode');
    const umask = process.umask();
    expect((await stat(dir)).mode & 0o777).toBe(0o777 & ~umask);
  });
});

/** Runs the CLI in a private mount namespace (unshare -rm: no privileges needed) after `mount` options on `dir`. */
function inMountNamespace(
  dir: string,
  mountOptions: string,
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  // The listing is taken inside the namespace, where the mount is visible.
  const script = `mount -t tmpfs -o ${mountOptions} tmpfs "$1" && shift && "$@"; echo "exit=$?"; ls -A "$DIR"`;
  return new Promise((resolve, reject) =>
    execFile(
      'unshare',
      ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, BIN, ...args],
      { env: { ...process.env, DIR: dir } },
      (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr })),
    ),
  );
}

describe('the environment', () => {
  it('a read-only file system as --out is exit 1 naming it and what to do', async () => {
    const out = join(work, 'read-only');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    const small = await writeMmrecFolder(join(work, 'small-ro'));
    const { stdout, stderr } = await inMountNamespace(out, 'ro', ['data', 'import', 'mmrec', small, '--out', out]);
    expect(stdout.trim()).toBe('exit=1');
    expect(stderr).toContain(
      `error: Cannot create a temp directory in the snapshot root (${out}: expected a writable location (choose an --out on a writable file system), found a read-only file system)`,
    );
  });

  it('a full disk is exit 1 naming --out and what to do, with nothing left on the full file system', async () => {
    const out = join(work, 'full');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    // A 2 MB tmpfs holds --out; the import needs ~90 MB.
    const { stdout, stderr } = await inMountNamespace(out, 'size=2m', [
      'data',
      'import',
      'mmrec',
      slowFolder,
      '--out',
      out,
    ]);
    expect(stdout.trim()).toBe('exit=1');
    expect(stderr).toMatch(
      new RegExp(
        `^error: Cannot write image\\.arrow into the snapshot root \\(${out.replace(/[.]/g, '\\.')}: expected a writable location \\(free disk space or choose an --out on another disk\\), found no space left on the device\\)`,
      ),
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
