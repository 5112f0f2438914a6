import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stopProcess } from '../temporal/dev-server';
import { freePort } from '../temporal/free-port';
import { ensureVersitygw } from './versitygw-install';

export interface S3ServerOptions {
  /** Folder the buckets live in (one subfolder each); created if missing. */
  dataDir: string;
  /** Loopback port; a free one when omitted (pass the old one to restart a server on its address). */
  port?: number;
  accessKey?: string;
  secretKey?: string;
  startTimeoutMs?: number;
}

export interface S3Server {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  port: number;
  dataDir: string;
  accessKey: string;
  secretKey: string;
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export class S3ServerError extends Error {
  override readonly name = 'S3ServerError';
}

const OUTPUT_KEEP = 16 * 1024;

/** Starts versitygw's POSIX backend on 127.0.0.1 and resolves once it says it is listening. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const { path } = await ensureVersitygw();
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const accessKey = options.accessKey ?? `sgfd${randomBytes(6).toString('hex')}`;
  const secretKey = options.secretKey ?? randomBytes(18).toString('hex');
  const args = ['--port', `127.0.0.1:${port}`, 'posix', dataDir];
  const child = spawn(path, args, {
    env: { ...process.env, ROOT_ACCESS_KEY: accessKey, ROOT_SECRET_KEY: secretKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const ready = new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new S3ServerError(`versitygw did not start within ${options.startTimeoutMs ?? 30_000} ms`)),
      options.startTimeoutMs ?? 30_000,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_KEEP);
      if (/listening on/i.test(output)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new S3ServerError(`versitygw exited (${signal ?? `code ${code}`}) during start`));
    });
    child.once('error', (e) => reject(new S3ServerError(`could not run ${path}: ${e.message}`)));
  });
  try {
    await ready;
  } catch (e) {
    if (child.pid !== undefined) await stopProcess(child.pid, 2_000);
    process.removeListener('exit', killOnExit);
    throw new S3ServerError(`${(e as Error).message}\ncommand: ${path} ${args.join(' ')}\noutput:\n${output.trim()}`);
  }
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  const pid = child.pid!;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    accessKey,
    secretKey,
    pid,
    async stop(timeoutMs = 10_000) {
      process.removeListener('exit', killOnExit);
      await stopProcess(pid, timeoutMs);
    },
  };
}
