import { readFile, rm, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO } from '@sgfd/contracts';
import { startDevServer, stopProcess, waitForTemporal, type DevServerOptions } from './dev-server';
import { portIsFree } from './free-port';

/**
 * The repository root (tools/temporal/../..) when running from source. Tests, the bench and the docs use it;
 * what also runs from a bundle in dist/ (which has no checkout around it) uses `sgfdStateDir()` instead.
 */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * This machine's local state folder (the default `file://` artifact store `artifacts/`, the local server's
 * record, the workflow bundle cache `cache/`): SGFD_HOME (as for `sgfd data` and `sgfd train`), else
 * `<checkout>/.sgfd` when running from source, else `.sgfd` in the current directory (the bundles of
 * `npm run build`, which have no checkout around them).
 */
export function sgfdStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['SGFD_HOME']) return resolve(env['SGFD_HOME']);
  return join(BUILD_INFO ? process.cwd() : REPO_ROOT, '.sgfd');
}

/** Where the local server keeps its record, database and log: SGFD_LOCAL_SERVER_DIR, else the state folder. */
export function localServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['SGFD_LOCAL_SERVER_DIR'] ? resolve(env['SGFD_LOCAL_SERVER_DIR']) : sgfdStateDir(env);
}

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

export async function readLocalServerState(stateDir = localServerDir()): Promise<LocalServerState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(stateDir), 'utf8')) as LocalServerState;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The recorded server if its process still answers, else undefined. A stale record stays: a restarted
 * server takes its address again, so clients and workers that kept it reconnect by themselves.
 */
export async function runningLocalServer(stateDir = localServerDir()): Promise<LocalServerState | undefined> {
  const state = await readLocalServerState(stateDir);
  if (!state) return undefined;
  try {
    process.kill(state.pid, 0);
    await waitForTemporal(state.address, state.namespace, 3_000);
    return state;
  } catch {
    return undefined;
  }
}

/** The front-end and Web UI ports of a previous server, when both are free again. */
async function recordedPorts(previous: LocalServerState | undefined): Promise<{ port?: number; uiPort?: number }> {
  if (!previous) return {};
  const [host = '127.0.0.1', portText] = previous.address.split(/:(?=\d+$)/);
  const port = Number(portText);
  const uiPort = Number(new URL(previous.uiUrl).port);
  if (!Number.isInteger(port) || !Number.isInteger(uiPort)) return {};
  return (await portIsFree(port, host)) && (await portIsFree(uiPort, host)) ? { port, uiPort } : {};
}

/**
 * Reuses the local server recorded in `<stateDir>/temporal-server.json` or starts one detached from this
 * process (state in `<stateDir>/temporal.db`, log beside it), so it keeps running for later commands. A
 * server started after one that died takes the recorded ports again while they are free.
 */
export async function ensureLocalServer(
  options: LocalServerOptions = {},
): Promise<LocalServerState & { reused: boolean }> {
  const stateDir = options.stateDir ?? localServerDir();
  const running = await runningLocalServer(stateDir);
  if (running) return { ...running, reused: true };
  await mkdir(stateDir, { recursive: true });
  const dbFile = join(stateDir, 'temporal.db');
  const logFile = join(stateDir, 'temporal-server.log');
  const ports =
    options.port === undefined && options.uiPort === undefined
      ? await recordedPorts(await readLocalServerState(stateDir).catch(() => undefined))
      : {};
  const server = await startDevServer({ ...options, ...ports, dbFile, logFile, detached: true });
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
export async function stopLocalServer(stateDir = localServerDir()): Promise<boolean> {
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
