// The local stack `sgfd dev` and `sgfd start` bring up: this checkout's Temporal dev server (built on
// first use) or the server named by flags/env, and the four worker apps as child processes.
import { UserError, type Stage } from '@sgfd/contracts';
import { ensureLocalServer, prepareTensorflowEngine, readLocalServerState, stopLocalServer } from '@sgfd/tools';
import { resolveTemporalTarget, type TemporalTarget } from '@sgfd/activities/connection';
import type { ConnectionFlags } from './connect';
import { superviseLocalServer } from './server-supervisor';
import { startWorkers, type WorkerGroup, type WorkerLogEvent } from './workers';

/** A worker of the stack died: the command stops everything and exits 1 with this message. */
export class StackStoppedError extends UserError {
  override readonly name = 'StackStoppedError';
}

export interface LocalStack {
  target: TemporalTarget;
  uiUrl: string | null;
  /** True when this command started the server (so it may stop it). */
  startedServer: boolean;
  workers: WorkerGroup;
  stop(options?: { server?: boolean }): Promise<void>;
}

export interface LocalStackOptions extends ConnectionFlags {
  artifacts?: string;
  extraWorkers?: Partial<Record<Stage, number>>;
  onLog?: (event: WorkerLogEvent) => void;
  /** Progress notes (building the server, starting workers). */
  note: (line: string) => void;
  /** Restart the local server whenever its process is gone (`sgfd dev`). */
  superviseServer?: boolean;
  /**
   * Runs once the server is up, while the workers start (e.g. submitting workflows: the server holds their
   * tasks until a worker polls). The stack comes up only when both succeed.
   */
  whileWorkersStart?: (target: TemporalTarget) => Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  let target: TemporalTarget;
  let uiUrl: string | null = null;
  let startedServer = false;
  if (options.address || process.env['TEMPORAL_ADDRESS']) {
    target = await resolveTemporalTarget(options, readLocalServerState);
    options.note(`Temporal ${target.address} (namespace ${target.namespace}, from ${target.source})`);
  } else {
    options.note('Temporal: reusing or starting the local dev server (the first time, this builds it: ~5 min)…');
    const server = await ensureLocalServer({ namespace: options.namespace });
    target = { address: server.address, namespace: server.namespace, source: 'local-server' };
    uiUrl = server.uiUrl;
    startedServer = !server.reused;
    options.note(
      `Temporal ${server.address} (namespace ${server.namespace}${server.reused ? ', already running' : ''}); Web UI ${server.uiUrl}`,
    );
  }
  // Once here, so the workers find the engine built instead of racing for the build lock.
  await prepareTensorflowEngine({ log: options.note });
  options.note('starting the workers (ingest + workflows, teacher, student, eval)…');
  const [started, meanwhile] = await Promise.allSettled([
    startWorkers({
      target,
      artifacts: options.artifacts,
      extra: options.extraWorkers,
      onLog: options.onLog,
    }),
    options.whileWorkersStart?.(target),
  ]);
  if (started.status === 'rejected' || meanwhile.status === 'rejected') {
    if (started.status === 'fulfilled') await started.value.stop();
    if (startedServer) await stopLocalServer();
    throw started.status === 'rejected' ? started.reason : (meanwhile as PromiseRejectedResult).reason;
  }
  const workers: WorkerGroup = started.value;
  const supervisor =
    options.superviseServer && target.source === 'local-server'
      ? superviseLocalServer({ namespace: options.namespace, note: options.note })
      : undefined;
  return {
    target,
    uiUrl,
    startedServer,
    workers,
    async stop({ server = false } = {}) {
      supervisor?.stop();
      await workers.stop();
      if (server && startedServer) await stopLocalServer();
    },
  };
}

/** Resolves on the first SIGINT/SIGTERM (and keeps the default exit from happening). */
export function untilSignal(): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let handler: (signal: NodeJS.Signals) => void = () => undefined;
  const promise = new Promise<NodeJS.Signals>((resolve) => (handler = resolve));
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    promise,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
