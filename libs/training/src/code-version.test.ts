import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeVersion } from './code-version';

let repo: string;
const git = (...args: string[]) => {
  const out = spawnSync('git', ['-c', 'user.name=sgfd', '-c', 'user.email=sgfd@localhost', ...args], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return out.stdout.trim();
};

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'sgfd-code-version-'));
  git('init', '-q');
  await writeFile(join(repo, 'model.ts'), 'export const x = 1;\n');
  git('add', '.');
  git('commit', '-qm', 'first');
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('codeVersion', () => {
  // Each call reads a fresh subfolder path of the repo, as the version is cached per folder.
  let n = 0;
  const versionNow = async () => {
    const dir = join(repo, `.probe${n++}`);
    await writeFile(join(repo, '.git', 'info', 'exclude'), '.probe*\n');
    await mkdir(dir);
    return codeVersion(dir);
  };

  it('is the commit when clean, and tells apart two different sets of uncommitted edits', async () => {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    expect(await versionNow()).toBe(`git:${commit}`);
    await writeFile(join(repo, 'model.ts'), 'export const x = 2;\n');
    const editA = await versionNow();
    await writeFile(join(repo, 'model.ts'), 'export const x = 3;\n');
    const editB = await versionNow();
    expect(editA).toMatch(new RegExp(`^git:${commit}-dirty-[0-9a-f]{12}$`));
    expect(editB).toMatch(/-dirty-[0-9a-f]{12}$/);
    expect(editB).not.toBe(editA);
    await writeFile(join(repo, 'extra.ts'), 'export const y = 1;\n');
    const withNewFile = await versionNow();
    expect(withNewFile).not.toBe(editB);
    await writeFile(join(repo, 'model.ts'), 'export const x = 2;\n');
    await rm(join(repo, 'extra.ts'));
    expect(await versionNow()).toBe(editA);
  });

  it('is SGFD_CODE_VERSION when set', async () => {
    process.env['SGFD_CODE_VERSION'] = 'release-7';
    try {
      expect(await versionNow()).toBe('release-7');
    } finally {
      delete process.env['SGFD_CODE_VERSION'];
    }
  });
});
