import type { Command } from 'commander';
import { PIPELINE_STAGES, TRAIN_PIPELINE_WORKFLOW } from '@sgfd/contracts';
import { emit } from '../output';
import { withClient, withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { queryProgress } from '../pipeline/follow';
import { duration, progressLine } from '../pipeline/progress-view';
import { webUiLink } from '../pipeline/links';
import { describeRun } from '../pipeline/runs';

const ago = (date: Date | undefined) => (date ? `${duration((Date.now() - date.getTime()) / 1000)} ago` : '');

/** `sgfd status [ID]`: one run's stages and progress, or the latest runs. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('status')
      .description(
        "a run's status and progress (stage, epoch, best validation metric, ETA), or the latest runs without ID",
      )
      .argument('[id]', 'run (workflow) id')
      .option('--limit <n>', 'how many runs to list', '20'),
  ).action(async (id: string | undefined, opts: ConnectionFlags & { limit: string }, cmd: Command) => {
    await withClient(opts, async (connected) => {
      const { client, target } = connected;
      if (!id) {
        const runs: { id: string; status: string; startTime: Date; closeTime: Date | null }[] = [];
        for await (const run of client.workflow.list({ query: `WorkflowType = '${TRAIN_PIPELINE_WORKFLOW}'` })) {
          runs.push({
            id: run.workflowId,
            status: run.status.name,
            startTime: run.startTime,
            closeTime: run.closeTime ?? null,
          });
          if (runs.length >= Number(opts.limit)) break;
        }
        emit(cmd, runs, () =>
          runs.length === 0
            ? 'no runs yet (start one with `sgfd run`)'
            : runs
                .map((r) => {
                  const took = r.closeTime
                    ? `  took ${duration((r.closeTime.getTime() - r.startTime.getTime()) / 1000)}`
                    : '';
                  return `${r.status.padEnd(10)}  ${r.id}  started ${ago(r.startTime)}${took}`;
                })
                .join('\n'),
        );
        return;
      }
      const { handle, description } = await describeRun(connected, id);
      const progress = await queryProgress(handle);
      const ui = await webUiLink(target, id);
      const json = {
        id,
        status: description.status.name,
        startTime: description.startTime,
        closeTime: description.closeTime ?? null,
        progress,
        webUi: ui,
      };
      emit(cmd, json, () => {
        const lines = [`${id}: ${description.status.name}, started ${ago(description.startTime)}`];
        if (progress) {
          lines.push(progressLine(progress));
          for (const stage of PIPELINE_STAGES) {
            const s = progress.stages[stage];
            const epoch = s.epoch !== null ? `  epoch ${s.epoch}/${s.maxEpochs}` : '';
            const best = s.bestValid !== null ? `  best valid ${s.bestValid.toFixed(4)}` : '';
            const probe = s.reference !== null ? ` (ridge probe ${s.reference.toFixed(4)})` : '';
            lines.push(`  ${stage.padEnd(8)} ${s.status}${epoch}${best}${probe}`);
          }
        } else if (description.status.name === 'RUNNING') {
          lines.push('  (no progress yet: is a worker polling sgfd-workflows? `sgfd dev` starts them)');
        }
        if (ui) lines.push(`Web UI: ${ui}`);
        return lines.join('\n');
      });
    });
  });
}
