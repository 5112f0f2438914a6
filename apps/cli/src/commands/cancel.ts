import type { Command } from 'commander';
import { UserError } from '@sgfd/contracts';
import { emit, note } from '../output';
import { withClient, withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { describeRun } from '../pipeline/runs';

class RunNotRunningError extends UserError {
  override readonly name = 'RunNotRunningError';
}

/** `sgfd cancel ID`: cancels the run; the running activity stops at its next heartbeat and leaves no output. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('cancel')
      .description('cancel a running run (its current stage stops and leaves no partial output)')
      .argument('<id>', 'run (workflow) id')
      .option('--no-wait', 'return at once instead of waiting until the run has stopped'),
  ).action(async (id: string, opts: ConnectionFlags & { wait: boolean }, cmd: Command) => {
    await withClient(opts, async (connected) => {
      const { handle, description: before } = await describeRun(connected, id);
      if (before.status.name !== 'RUNNING')
        throw new RunNotRunningError(`run ${id} is not running (it ended ${before.status.name})`);
      await handle.cancel();
      if (!opts.wait) {
        emit(cmd, { id, status: 'CANCEL_REQUESTED' }, () => `cancellation of ${id} requested`);
        return;
      }
      note(cmd, `cancelling ${id}; waiting for the running stage to stop…`);
      await handle.result().catch(() => undefined);
      const after = await handle.describe();
      emit(cmd, { id, status: after.status.name }, () => `${id}: ${after.status.name}`);
    });
  });
}
