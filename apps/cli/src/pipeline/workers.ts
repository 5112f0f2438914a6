// Starts the four worker apps as child processes (what `sgfd dev` and `sgfd start` run, and what the
// pipeline tests kill and restart), waits until each polls its task queue, and stops them.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO, PIPELINE_STAGES, type Stage } from '@sgfd/contracts';
import { REPO_ROOT } from '@sgfd/tools';
import type { TemporalTarget } from '@sgfd/activities/connection';

export interface WorkerLogEvent {
  stage: Stage;
  pid: number;
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface WorkerProcess {
  stage: Stage;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
  /** SIGTERM (graceful: the worker drains), then SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | string>;
}

export interface StartWorkerOptions {
  target: Pick<TemporalTarget, 'address' | 'namespace'>;
  /** Artifact store root shared by the workers (default: the workers' own default, <repo>/.sgfd/artifacts). */
  artifacts?: string;
  /** Extra worker flags, e.g. ['--max-activities', '2']. */
  args?: string[];
  /** Working directory of the process (default: the checkout from source, the current one from dist/). */
  cwd?: string;
  /**
   * A dist/ folder of `npm run build`: its bundled worker runs instead of the source. Default: the folder of
   * the running bundle when the CLI itself runs from dist/, else none (the source through tsx).
   */
  bundleDir?: string;
  /** Variables added to the inherited environment (e.g. AWS_* for an s3:// store, SGFD_S3_CACHE_DIR). */
  env?: NodeJS.ProcessEnv;
  /** Every log line of the worker, parsed (workers log JSON lines to the supervisor). */
  onLog?: (event: WorkerLogEvent) => void;
  readyTimeoutMs?: number;
}

const runningBundleDir = () => (BUILD_INFO ? fileURLToPath(new URL('.', import.meta.url)) : undefined);

/** Node's arguments that start a stage's worker: the bundle in `bundleDir`, else its source through tsx. */
export function workerCommand(stage: Stage, bundleDir = runningBundleDir()): string[] {
  if (bundleDir) return [join(bundleDir, `worker-${stage}.mjs`)];
  return ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'apps', `worker-${stage}`, 'src', 'main.ts')];
}

/** Starts one worker app and resolves once it reports `ready` (rejects, naming its last output, if it exits first). */
export async function startWorker(stage: Stage, options: StartWorkerOptions): Promise<WorkerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: options.target.address,
    TEMPORAL_NAMESPACE: options.target.namespace,
    SGFD_LOG_FORMAT: 'json',
    ...options.env,
  };
  if (options.artifacts) env['SGFD_ARTIFACTS'] = options.artifacts;
  const child = spawn(process.execPath, [...workerCommand(stage, options.bundleDir), ...(options.args ?? [])], {
    cwd: options.cwd ?? (BUILD_INFO ? process.cwd() : REPO_ROOT),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const recent: string[] = [];
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const onLine = (line: string) => {
    if (!line.trim()) return;
    let event: WorkerLogEvent;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      event = { ...parsed, stage, pid, level: String(parsed['level'] ?? 'INFO'), msg: String(parsed['msg'] ?? '') };
    } catch {
      event = { stage, pid, level: 'INFO', msg: line };
    }
    recent.push(event.msg);
    if (recent.length > 20) recent.shift();
    if (event.msg === 'ready') markReady();
    options.onLog?.(event);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);

  const stop = async (timeoutMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };

  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => `exited (${code})`),
    new Promise<string>(
      (resolve) => (timer = setTimeout(() => resolve(`not ready after ${timeoutMs / 1000} s`), timeoutMs)),
    ),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    await stop(2_000);
    throw new Error(`worker-${stage} ${outcome}; its last output:\n  ${recent.join('\n  ') || '(none)'}`);
  }
  return { stage, pid, child, exited, stop };
}

export interface WorkerGroup {
  workers: WorkerProcess[];
  /** Stops every worker (graceful first) and waits for all to exit. */
  stop(): Promise<void>;
}

/** Starts one worker per stage (plus `extra` copies of some), all at once. */
export async function startWorkers(
  options: StartWorkerOptions & { extra?: Partial<Record<Stage, number>> },
): Promise<WorkerGroup> {
  const stages: Stage[] = PIPELINE_STAGES.flatMap((s) =>
    Array.from({ length: 1 + (options.extra?.[s] ?? 0) }, () => s),
  );
  const started = await Promise.allSettled(stages.map((stage) => startWorker(stage, options)));
  const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const group: WorkerGroup = {
    workers,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
  if (failed) {
    await group.stop();
    throw failed.reason;
  }
  return group;
}
