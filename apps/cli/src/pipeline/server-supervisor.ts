// `sgfd dev` keeps the local Temporal server up: when its process is gone (crashed, killed), it starts it
// again on the recorded ports and database, so the workers, which keep retrying that address, reconnect by
// themselves and running activities carry on.
import { isProcessAlive } from '@sgfd/artifacts';
import { ensureLocalServer, readLocalServerState } from '@sgfd/tools';

export interface ServerSupervisor {
  /** Restarts done so far. */
  readonly restarts: number;
  stop(): void;
}

export function superviseLocalServer(options: {
  namespace?: string;
  note: (line: string) => void;
  intervalMs?: number;
}): ServerSupervisor {
  let restarts = 0;
  let busy = false;
  let stopped = false;
  const check = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const state = await readLocalServerState();
      if (!state || isProcessAlive(state.pid)) return;
      options.note(`the Temporal server (pid ${state.pid}) is gone; restarting it on ${state.address}…`);
      const server = await ensureLocalServer({ namespace: options.namespace });
      restarts++;
      options.note(
        server.address === state.address
          ? `Temporal server restarted (pid ${server.pid}) on ${server.address}; the workers reconnect by themselves`
          : `Temporal server restarted on ${server.address}, not ${state.address} (that port was taken): restart sgfd dev`,
      );
    } catch (e) {
      options.note(`could not restart the Temporal server: ${(e as Error).message.split('\n')[0]}; retrying`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? 1_000);
  timer.unref();
  return {
    get restarts() {
      return restarts;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
