import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/** The first users' top items from the evaluation's report.json (older reports have none). */
export async function recommendationSampleOf(dir: string): Promise<{ user: string; items: string[] }[]> {
  try {
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as {
      recommendations?: { sample?: { user: string; items: string[] }[] };
    };
    return report.recommendations?.sample ?? [];
  } catch {
    return [];
  }
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
      const evaluationDir = evaluationDirOf(summary);
      const sample = evaluationDir ? await recommendationSampleOf(evaluationDir) : [];
      emit(cmd, { ...summary, recommendationSample: sample }, () =>
        [
          summaryText(summary, evaluationDir),
          ...(sample.length ? ['', 'top recommendations (ids of the source):'] : []),
          ...sample.map(({ user, items }) => `  ${user}: ${items.join(', ')}`),
        ].join('\n'),
      );
    });
  });
}
