import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMPORAL_CLI_VERSION, TemporalInstallError, ensureTemporalCli, temporalCliCachePath } from './cli-install';

const quiet = () => undefined;

describe('ensureTemporalCli', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys the cache by version under XDG_CACHE_HOME', () => {
    expect(temporalCliCachePath({ XDG_CACHE_HOME: '/x' })).toBe(`/x/sgfd/temporal/${TEMPORAL_CLI_VERSION}/temporal`);
  });

  it('reuses the machine cache: concurrent callers get the same binary without building', async () => {
    const first = await ensureTemporalCli({ log: quiet });
    const [a, b] = await Promise.all([ensureTemporalCli({ log: quiet }), ensureTemporalCli({ log: quiet })]);
    expect(a.path).toBe(first.path);
    expect(b.path).toBe(first.path);
    expect([a.source, b.source]).toEqual(['cache', 'cache']);
  });

  it('honours TEMPORAL_CLI_PATH and rejects one that is not an executable', async () => {
    const { path } = await ensureTemporalCli({ log: quiet });
    const viaEnv = await ensureTemporalCli({ env: { ...process.env, TEMPORAL_CLI_PATH: path }, log: quiet });
    expect(viaEnv).toMatchObject({ path, source: 'env' });
    await expect(
      ensureTemporalCli({ env: { ...process.env, TEMPORAL_CLI_PATH: join(dir, 'nope') }, log: quiet }),
    ).rejects.toThrow(/TEMPORAL_CLI_PATH=.*nope is not an executable/);
  });

  it('reports a failed go install with its log and leaves no binary, temp dir or lock behind', async () => {
    // A cold cache with the module proxy switched off: the real `go install` fails on the first lookup.
    const env = {
      ...process.env,
      TEMPORAL_CLI_PATH: '',
      XDG_CACHE_HOME: dir,
      GOMODCACHE: join(dir, 'gomod'),
      GOPROXY: 'off',
      GOFLAGS: '-modcacherw',
    };
    const lines: string[] = [];
    const error = await ensureTemporalCli({ env, log: (l) => lines.push(l) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalInstallError);
    expect((error as Error).message).toMatch(/go install github.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1 failed/);
    expect((error as Error).message).toContain('GOPROXY=off');
    expect(lines[0]).toContain('building the Temporal CLI');
    const target = temporalCliCachePath(env);
    expect(existsSync(target)).toBe(false);
    expect((await readdir(dirname(target))).sort()).toEqual(['build.log']);
  });

  it('says how to proceed when Go is missing', async () => {
    const env = { PATH: join(dir, 'empty-bin'), HOME: dir, XDG_CACHE_HOME: dir };
    await expect(ensureTemporalCli({ env, log: quiet })).rejects.toThrow(/no `go` on PATH.*TEMPORAL_CLI_PATH/s);
    expect(existsSync(temporalCliCachePath(env))).toBe(false);
  });
});
