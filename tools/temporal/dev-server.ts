import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureTemporalCli } from './cli-install';
import { freePort } from './free-port';
import { isProcessAlive } from '@sgfd/artifacts';

export interface DevServerOptions {
  /** SQLite file holding the server's state; relative paths resolve against the current directory. */
  dbFile?: string;
  ip?: string;
  /** Front-end gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. */
  uiPort?: number;
  namespace?: string;
  /** Binary to run; by default the one `ensureTemporalCli` returns (built on first use). */
  cliPath?: string;
  /** How long to wait for the server to answer a namespace description. */
  startTimeoutMs?: number;
  /**
   * Run the server in its own process group with output to `logFile`, so it outlives this process
   * (for `server.ts start`). Otherwise it is killed when this process exits.
   */
  detached?: boolean;
  logFile?: string;
}

export interface DevServer {
  /** host:port of the gRPC front end, what clients and workers connect to. */
  address: string;
  uiUrl: string;
  namespace: string;
  dbFile: string;
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export class TemporalServerError extends Error {
  override readonly name = 'TemporalServerError';
  /** True when the process exited during start (e.g. a port taken meanwhile), not a timeout. */
  readonly exitedEarly: boolean;
  constructor(message: string, exitedEarly = false) {
    super(message);
    this.exitedEarly = exitedEarly;
  }
}

const STDERR_KEEP = 16 * 1024;

export function devServerArgs(o: {
  ip: string;
  port: number;
  uiPort: number;
  dbFile: string;
  namespace: string;
}): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port), '--ui-port', String(o.uiPort)];
  args.push('--db-filename', o.dbFile, '--log-level', 'warn', '--log-format', 'json');
  // "default" always exists; others must be created at launch.
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  return args;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops a server process by pid (also one started by another process): SIGTERM, wait, SIGKILL. */
export async function stopProcess(pid: number, timeoutMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(50);
  if (!isProcessAlive(pid)) return;
  signal('SIGKILL');
  while (isProcessAlive(pid)) await sleep(20);
}

/** Resolves once the server answers for `namespace`; rejects at the deadline or when `exited` settles. */
export async function waitForTemporal(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited?: Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let gone: string | undefined;
  void exited?.then((why) => (gone = why));
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new TemporalServerError(gone, true);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (e) {
      lastError = e;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(200);
  }
  if (gone !== undefined) throw new TemporalServerError(gone, true);
  throw new TemporalServerError(
    `Temporal at ${address} did not become healthy within ${timeoutMs} ms (last error: ${(lastError as Error)?.message})`,
  );
}

/** Starts `temporal server start-dev` on free ports and resolves once it serves `namespace`. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const cliPath = options.cliPath ?? (await ensureTemporalCli()).path;
  const dbFile = resolve(options.dbFile ?? '.sgfd/temporal.db');
  await mkdir(dirname(dbFile), { recursive: true });
  const portsChosenHere = options.port === undefined || options.uiPort === undefined;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort(ip));
    let uiPort = options.uiPort ?? (await freePort(ip));
    while (uiPort === port) uiPort = await freePort(ip);
    try {
      return await launch({ ...options, ip, port, uiPort, dbFile, cliPath });
    } catch (e) {
      // A free port can be taken between probing and binding; probe again a couple of times.
      const retry = portsChosenHere && e instanceof TemporalServerError && e.exitedEarly && attempt < 3;
      if (!retry) throw e;
    }
  }
}

type LaunchOptions = DevServerOptions &
  Required<Pick<DevServerOptions, 'ip' | 'port' | 'uiPort' | 'dbFile' | 'cliPath'>>;

async function launch(options: LaunchOptions): Promise<DevServer> {
  const { ip, port, uiPort, dbFile, cliPath } = options;
  const namespace = options.namespace ?? 'default';
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const logFile = resolve(options.logFile ?? `${dbFile}.log`);
  const args = devServerArgs({ ip, port, uiPort, dbFile, namespace });
  let child: ChildProcess;
  let stderr = '';
  if (options.detached) {
    const logFd = openSync(logFile, 'a');
    try {
      child = spawn(cliPath, args, { detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    child.unref();
  } else {
    child = spawn(cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
  }
  const readOutput = () => (options.detached ? readFileSync(logFile, 'utf8').slice(-STDERR_KEEP) : stderr);
  const exited = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) =>
      resolveExit(`Temporal server exited (${signal ?? `code ${code}`}) during start`),
    );
    child.once('error', (e) => resolveExit(`could not run ${cliPath}: ${e.message}`));
  });
  const pid = child.pid;
  if (pid === undefined) throw new TemporalServerError(await exited);

  const killOnExit = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  if (!options.detached) process.once('exit', killOnExit);

  const address = `${ip}:${port}`;
  try {
    await waitForTemporal(address, namespace, startTimeoutMs, exited);
  } catch (e) {
    await stopProcess(pid, 2_000);
    process.removeListener('exit', killOnExit);
    const output = readOutput().trim();
    throw new TemporalServerError(
      `${(e as Error).message}\ncommand: ${cliPath} ${args.join(' ')}${output ? `\nserver output:\n${output}` : ''}`,
      e instanceof TemporalServerError && e.exitedEarly,
    );
  }

  return {
    address,
    uiUrl: `http://${ip}:${uiPort}`,
    namespace,
    dbFile,
    pid,
    async stop(timeoutMs = 10_000) {
      process.removeListener('exit', killOnExit);
      await stopProcess(pid, timeoutMs);
    },
  };
}
