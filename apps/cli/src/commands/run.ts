import { Command, Option } from 'commander';
import { BACKBONE_OPTION_HELP, SET_OPTION_HELP, collect } from '../config-input';
import { SGFD_MODES, TRAIN_PIPELINE_WORKFLOW, WORKFLOW_TASK_QUEUE, type SgfdMode } from '@sgfd/contracts';
import { emit, note } from '../output';
import { parseInteger } from '../program';
import { withClient, withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { followRuns } from '../pipeline/follow';
import { summaryText } from '../pipeline/progress-view';
import { evaluationDirOf, webUiLink } from '../pipeline/links';
import { pipelineInputFor, DEFAULT_DATA_SEED, type RunFlags } from '../pipeline/run-input';
import { queuesWithoutWorkers } from '../pipeline/task-queues';

/** `sgfd run`: starts the training pipeline (ingest -> teacher -> student -> evaluate) as a workflow. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('run')
      .description('start the training pipeline on Temporal; --follow shows its progress and the results')
      .requiredOption(
        '--dataset <preset|dir>',
        'a synthetic preset (tiny, office, baby), a snapshot folder, an MMRec folder or a Parquet folder',
      )
      .option('--backbone <name>', BACKBONE_OPTION_HELP)
      .addOption(
        new Option(
          '--sgfd <mode>',
          'off: plain backbone; control: the students without distillation (no teacher); two-stage: pretrained teacher, then distillation; joint: trained together',
        ).choices([...SGFD_MODES]),
      )
      .option('--seed <n>', 'training seed (training.seed)', parseInteger('--seed'))
      .option(
        '--data-seed <n>',
        `seed of the synthetic generator for a preset (default ${DEFAULT_DATA_SEED})`,
        parseInteger('--data-seed'),
      )
      .option(
        '--epochs <n>',
        'epoch limit of the student (training.epochs); early stopping usually ends sooner',
        parseInteger('--epochs', 1),
      )
      .option('--config <file>', 'a JSON run config (backbone, backboneParams, sgfd, training); flags override it')
      .option('--set <key=value>', SET_OPTION_HELP, collect, [])
      .option('--id <id>', 'workflow id (default: <backbone>-<sgfd>-<dataset>-<time>)')
      .option('--follow', 'show a progress bar until the run ends, then the results table'),
  ).action(async (opts: RunFlags & ConnectionFlags & { follow?: boolean; sgfd?: SgfdMode }, cmd: Command) => {
    const input = await pipelineInputFor(opts);
    await withClient(opts, async ({ client, connection, target }) => {
      const missing = await queuesWithoutWorkers(connection, target.namespace);
      if (missing.length)
        note(
          cmd,
          `warning: no worker polls ${missing.join(', ')} yet; the run waits until one does (start them with \`sgfd dev\`)`,
        );
      const handle = await client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
        taskQueue: WORKFLOW_TASK_QUEUE,
        workflowId: input.runId,
        args: [input],
      });
      const ui = await webUiLink(target, input.runId);
      note(
        cmd,
        `started run ${input.runId} (${input.config.backbone}, sgfd ${input.config.sgfd.mode}, seed ${input.config.training.seed})${ui ? `\nWeb UI: ${ui}` : ''}`,
      );
      if (!opts.follow) {
        emit(cmd, { runId: input.runId, workflowRunId: handle.firstExecutionRunId, webUi: ui }, () =>
          [
            `follow it: sgfd status ${input.runId}`,
            `results:   sgfd results ${input.runId}`,
            `cancel:    sgfd cancel ${input.runId}`,
          ].join('\n'),
        );
        return;
      }
      const [summary] = await followRuns(client, [{ workflowId: input.runId, label: input.runId }]);
      const evaluationDir = evaluationDirOf(summary!);
      emit(cmd, summary, () => `\n${summaryText(summary!, evaluationDir)}`);
    });
  });
}
