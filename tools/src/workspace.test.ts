import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

// The workspace's own rules, checked on every npm test: module boundaries (workflows import only
// contracts) and types across project references.
// eslint and tsc over the whole tree are CPU-bound: on a busy 2-core machine they take minutes.
describe('workspace', { timeout: 600_000 }, () => {
  beforeAll(() => {
    // @nx/enforce-module-boundaries reads the cached project graph; without it the rule is skipped.
    execFileSync(bin('nx'), ['show', 'projects'], { cwd: root, env, stdio: 'pipe' });
  });

  it('passes eslint, including the module-boundary rules', () => {
    const result = spawnSync(bin('eslint'), ['.', '--format', 'json'], {
      cwd: root,
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const files = JSON.parse(result.stdout) as {
      filePath: string;
      messages: { ruleId: string | null; message: string; line: number; severity: number }[];
    }[];
    const errors = files.flatMap((f) =>
      f.messages.filter((m) => m.severity === 2).map((m) => `${f.filePath}:${m.line} ${m.ruleId}: ${m.message}`),
    );
    const skippedBoundaries = files.some((f) => f.messages.some((m) => m.message.includes('No cached ProjectGraph')));
    expect(skippedBoundaries).toBe(false);
    expect(errors).toEqual([]);
  });

  it('typechecks every project', () => {
    const result = spawnSync(bin('tsc'), ['-b', 'tsconfig.json'], { cwd: root, env, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('is formatted by prettier (run `npx prettier --write .` to fix)', () => {
    const result = spawnSync(bin('prettier'), ['--list-different', '.'], { cwd: root, env, encoding: 'utf8' });
    expect(result.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
    expect(result.status).toBe(0);
  });
});
