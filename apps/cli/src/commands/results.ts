import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { UserError, type RunSummary } from '@sgfd/contracts';
import { emit } from '../output';
import { withClient, withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { failureMessage, RunFailedError } from '../pipeline/follow';
import { summaryText } from '../pipeline/progress-view';
import { evaluationDirOf } from '../pipeline/links';
import { describeRun } from '../pipeline/runs';

class RunNotFinishedError extends UserError {
  override readonly name = 'RunNotFinishedError';
}

/** `sgfd results ID`: the finished run's test metrics against the most-popular baseline, and its report. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('results')
      .description("a finished run's metrics table (--json: the whole run summary)")
      .argument('<id>', 'run (workflow) id'),
  ).action(async (id: string, opts: ConnectionFlags, cmd: Command) => {
    await withClient(opts, async (connected) => {
      const { handle, description } = await describeRun(connected, id);
      const { status } = description;
      if (status.name === 'RUNNING')
        throw new RunNotFinishedError(`run ${id} is still running: follow it with \`sgfd status ${id}\``);
      let summary: RunSummary;
      try {
        summary = await handle.result();
      } catch (e) {
        if (e instanceof WorkflowFailedError)
          throw new RunFailedError(`run ${id} ended ${status.name}: ${failureMessage(e)}`);
        throw e;
      }
      emit(cmd, summary, () => summaryText(summary, evaluationDirOf(summary)));
    });
  });
}
