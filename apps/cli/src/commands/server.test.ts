import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCapturing } from '../test-support/run-in-process';
import * as server from './server';

const sgfd = (...argv: string[]) => runCliCapturing([server], argv);

describe('sgfd server start | status | stop', () => {
  let dir: string;
  const previous = process.env['SGFD_LOCAL_SERVER_DIR'];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-server-'));
    process.env['SGFD_LOCAL_SERVER_DIR'] = dir;
  });
  afterAll(async () => {
    await sgfd('server', 'stop');
    if (previous === undefined) delete process.env['SGFD_LOCAL_SERVER_DIR'];
    else process.env['SGFD_LOCAL_SERVER_DIR'] = previous;
    await rm(dir, { recursive: true, force: true });
  });

  it('starts one server, reports it, reuses it, and stops it', async () => {
    const none = await sgfd('--json', 'server', 'status');
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stderr).error).toMatchObject({ name: 'EnvironmentError' });
    expect(none.stderr).toContain(dir);

    const started = await sgfd('--json', 'server', 'start');
    expect(started.code).toBe(0);
    const state = JSON.parse(started.stdout) as { address: string; started: boolean; dbFile: string };
    expect(state.started).toBe(true);
    expect(state.dbFile).toBe(join(dir, 'temporal.db'));

    const again = await sgfd('--json', 'server', 'start');
    expect(JSON.parse(again.stdout)).toMatchObject({ address: state.address, started: false });
    const status = await sgfd('server', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(state.address);

    expect(JSON.parse((await sgfd('--json', 'server', 'stop')).stdout)).toEqual({ stopped: true });
    expect((await sgfd('server', 'status')).code).toBe(1);
    expect((await sgfd('server', 'stop')).stdout).toContain('no local Temporal server was running');
  });
});
