import { readFile, rm, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevServer, stopProcess, waitForTemporal, type DevServerOptions } from './dev-server';

/** The repository root (tools/temporal/../..): where `.sgfd/` lives for the local server. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What `server.ts start` leaves behind so later commands find the running server. */
export interface LocalServerState {
  pid: number;
  address: string;
  uiUrl: string;
  namespace: string;
  dbFile: string;
  logFile: string;
  startedAt: string;
}

export interface LocalServerOptions extends Pick<DevServerOptions, 'port' | 'uiPort' | 'namespace' | 'ip'> {
  /** Directory for the state file, database and log; `<repo>/.sgfd` by default. */
  stateDir?: string;
}

const stateFile = (dir: string) => join(dir, 'temporal-server.json');

export async function readLocalServerState(stateDir = join(REPO_ROOT, '.sgfd')): Promise<LocalServerState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(stateDir), 'utf8')) as LocalServerState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The recorded server if its process still answers, else undefined (and the stale record is removed). */
export async function runningLocalServer(stateDir = join(REPO_ROOT, '.sgfd')): Promise<LocalServerState | undefined> {
  const state = await readLocalServerState(stateDir);
  if (!state) return undefined;
  try {
    process.kill(state.pid, 0);
    await waitForTemporal(state.address, state.namespace, 3_000);
    return state;
  } catch {
    await rm(stateFile(stateDir), { force: true });
    return undefined;
  }
}

/**
 * Reuses the local server recorded in `<stateDir>/temporal-server.json` or starts one detached from this
 * process (state in `<stateDir>/temporal.db`, log beside it), so it keeps running for later commands.
 */
export async function ensureLocalServer(
  options: LocalServerOptions = {},
): Promise<LocalServerState & { reused: boolean }> {
  const stateDir = options.stateDir ?? join(REPO_ROOT, '.sgfd');
  const running = await runningLocalServer(stateDir);
  if (running) return { ...running, reused: true };
  await mkdir(stateDir, { recursive: true });
  const dbFile = join(stateDir, 'temporal.db');
  const logFile = join(stateDir, 'temporal-server.log');
  const server = await startDevServer({ ...options, dbFile, logFile, detached: true });
  const state: LocalServerState = {
    pid: server.pid,
    address: server.address,
    uiUrl: server.uiUrl,
    namespace: server.namespace,
    dbFile,
    logFile,
    startedAt: new Date().toISOString(),
  };
  const temp = `${stateFile(stateDir)}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, stateFile(stateDir));
  return { ...state, reused: false };
}

/** Stops the recorded local server; false when none was running. */
export async function stopLocalServer(stateDir = join(REPO_ROOT, '.sgfd')): Promise<boolean> {
  const state = await readLocalServerState(stateDir);
  if (!state) return false;
  let alive = true;
  try {
    process.kill(state.pid, 0);
  } catch {
    alive = false;
  }
  if (alive) await stopProcess(state.pid);
  await rm(stateFile(stateDir), { force: true });
  return alive;
}
