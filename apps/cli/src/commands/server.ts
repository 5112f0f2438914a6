import type { Command } from 'commander';
import { EnvironmentError } from '@sgfd/contracts';
import { ensureLocalServer, localServerDir, runningLocalServer, stopLocalServer } from '@sgfd/tools';
import { emit, note } from '../output';

/**
 * `sgfd server start|status|stop`: the local Temporal dev server that `sgfd dev` and `sgfd start` use, by the
 * same record (`$SGFD_HOME/temporal-server.json`), so it works from a checkout and from the bundled `dist/`.
 */
export function register(program: Command): void {
  const server = program
    .command('server')
    .description('the local Temporal dev server (built on first use; state, database and log in $SGFD_HOME)');

  server
    .command('start')
    .description('start the local server in the background, or report the running one')
    .action(async (_opts: object, cmd: Command) => {
      note(cmd, 'Temporal: reusing or starting the local dev server (the first time, this builds it: ~5 min)…');
      const state = await ensureLocalServer();
      emit(
        cmd,
        { running: true, started: !state.reused, ...state },
        () =>
          `Temporal ${state.address} (namespace ${state.namespace}); Web UI ${state.uiUrl}${state.reused ? ' (already running)' : ''}`,
      );
    });

  server
    .command('status')
    .description("the running local server's address and Web UI; exit 1 when none is running")
    .action(async (_opts: object, cmd: Command) => {
      const state = await runningLocalServer();
      if (!state) {
        throw new EnvironmentError(
          `no local Temporal server is running (record: ${localServerDir()}): start one with \`sgfd server start\` or \`sgfd dev\``,
        );
      }
      emit(
        cmd,
        { running: true, ...state },
        () => `Temporal ${state.address} (namespace ${state.namespace}, pid ${state.pid}); Web UI ${state.uiUrl}`,
      );
    });

  server
    .command('stop')
    .description('stop the local server (its database stays, so a later start resumes its workflows)')
    .action(async (_opts: object, cmd: Command) => {
      const stopped = await stopLocalServer();
      emit(cmd, { stopped }, () => (stopped ? 'stopped' : 'no local Temporal server was running'));
    });
}
