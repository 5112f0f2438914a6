import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  EXPERIMENT_SUITE_WORKFLOW,
  SUITE_PROGRESS_QUERY,
  UserError,
  WORKFLOW_TASK_QUEUE,
  expandSuite,
  parseSuiteSpec,
  suiteCellWorkflowId,
  type ExperimentSuiteInput,
  type ExperimentSuiteResult,
  type SuiteProgress,
  type SuiteSpec,
} from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import { SET_OPTION_HELP, applySet, collect } from '../config-input';
import { emit, globalsOf, note } from '../output';
import { parseInteger } from '../program';
import { withClient, withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { LiveLines, RunFailedError, failureMessage, queryProgress } from '../pipeline/follow';
import { progressLine } from '../pipeline/progress-view';
import { webUiLink } from '../pipeline/links';
import { queuesWithoutWorkers } from '../pipeline/task-queues';

// The experiments lib (YAML, statistics, report rendering) loads only when a suite command runs.
const loadExperiments = () => import('@sgfd/experiments');
const loadTraining = () => import('@sgfd/training');

/** The suite is missing or not finished: one line, exit code 1. */
class SuiteNotFinishedError extends UserError {
  override readonly name = 'SuiteNotFinishedError';
}

/** The suite's workflow description, or a one-line error when there is no such suite. */
async function describeSuite(client: Client, id: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(id).describe();
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new SuiteNotFinishedError(`No suite '${id}' in this namespace`);
    throw e;
  }
}

/** `suite-ci-20261126-230501`: readable in the Web UI, unique per second. */
export function defaultSuiteId(name: string, now = new Date()): string {
  return `suite-${name}-${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

export function suiteProgressLine(p: SuiteProgress): string {
  const generation = p.generation ? `, generation ${p.generation}` : '';
  return `suite ${p.suiteId} [${p.phase}]  ${p.done} done, ${p.running.length} running, ${p.failed} failed, ${p.pending} pending of ${p.total}${generation}`;
}

async function querySuite(client: Client, suiteId: string): Promise<SuiteProgress | null> {
  try {
    return await client.workflow.getHandle(suiteId).query<SuiteProgress>(SUITE_PROGRESS_QUERY);
  } catch {
    return null; // not picked up by a workflow worker yet
  }
}

/** Shows the suite's progress (and its running cells' stages) until it ends; returns its result. */
export async function followSuite(
  client: Client,
  suiteId: string,
  onFailure: (cellId: string, error: string) => void,
  pollMs = 1_000,
): Promise<ExperimentSuiteResult> {
  const lines = new LiveLines();
  let ended = false;
  const result = client.workflow
    .getHandle(suiteId)
    .result()
    .finally(() => (ended = true));
  const reported = new Set<string>();
  while (!ended) {
    const p = await querySuite(client, suiteId);
    if (p) {
      for (const f of p.failures) {
        if (!reported.has(f.cellId)) onFailure(f.cellId, f.error);
        reported.add(f.cellId);
      }
      const cells = await Promise.all(
        p.running.map(async (cellId) => {
          const progress = await queryProgress(client.workflow.getHandle(suiteCellWorkflowId(suiteId, cellId)));
          return `  ${cellId}  ${progress ? progressLine(progress) : 'starting…'}`;
        }),
      );
      lines.render([suiteProgressLine(p), ...cells]);
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  try {
    return await result;
  } catch (e) {
    if (e instanceof WorkflowFailedError) throw new RunFailedError(`suite ${suiteId} failed: ${failureMessage(e)}`);
    throw e;
  }
}

/** The report's Markdown from the artifact store, or null when this machine cannot read it. */
async function reportMarkdown(result: ExperimentSuiteResult): Promise<string | null> {
  const { SUITE_REPORT_FILES } = await loadExperiments();
  if (!result.report.uri.startsWith('file:')) return null;
  try {
    return new TextDecoder().decode(await new FileArtifactStore().get(result.report, SUITE_REPORT_FILES.markdown));
  } catch {
    return null;
  }
}

async function resultText(result: ExperimentSuiteResult): Promise<string> {
  const { formatGain, formatP } = await loadExperiments();
  const markdown = await reportMarkdown(result);
  const where = `report files: ${result.report.uri.startsWith('file:') ? new URL(result.report.uri).pathname : result.report.uri}`;
  if (markdown) return `${markdown}\n${where}`;
  // The artifact store is on another machine: the comparison rows travel with the result.
  const rows = result.rows.map(
    (r) =>
      `${r.dataset}  ${r.backbone} ${r.mode} vs ${r.baseline}  ${r.metric}  ${r.baselineMean.toFixed(4)} -> ${r.mean.toFixed(4)}  ${formatGain(r.relativeGain)} (${formatP(r.pValue)})${r.significant ? ' *' : ''}`,
  );
  return [
    `suite ${result.suiteId}: ${result.cells.done} cells done, ${result.cells.failed} failed`,
    ...rows,
    where,
  ].join('\n');
}

/** The suite's base config with every --set key=value on top, validated again as a whole suite. */
export function withBaseOverrides(spec: SuiteSpec, assignments: string[], file: string): SuiteSpec {
  if (assignments.length === 0) return spec;
  const base = structuredClone(spec.base) as Record<string, unknown>;
  for (const assignment of assignments) applySet(base, assignment);
  return parseSuiteSpec({ ...spec, base }, `${file} with --set`);
}

/** `sgfd suite run FILE` and `sgfd suite results ID`. */
export function register(program: Command): void {
  const suite = program
    .command('suite')
    .description('experiment suites: a grid of runs, selected on validation, reported on test');

  withConnectionOptions(
    suite
      .command('run')
      .description(
        'start an experiment suite (one pipeline per grid cell); --follow shows cells done / running / failed, then the report',
      )
      .argument('<file>', 'suite file (.yaml or .json)')
      .option('--id <id>', 'workflow id of the suite (default suite-<name>-<time>)')
      .option(
        '--parallelism <n>',
        'cells trained at the same time (overrides the file)',
        parseInteger('--parallelism', 1),
      )
      .option('--follow', 'show progress until the suite ends, then print its report')
      .option('--set <key=value>', `${SET_OPTION_HELP}; applied to the suite's base config`, collect, [])
      .option(
        '--continue-as-new-after <events>',
        'history length at which the suite continues as new (default 10000)',
        parseInteger('--continue-as-new-after', 1),
      ),
  ).action(
    async (
      file: string,
      opts: ConnectionFlags & {
        id?: string;
        parallelism?: number;
        follow?: boolean;
        continueAsNewAfter?: number;
        set: string[];
      },
      cmd: Command,
    ) => {
      const { loadSuiteFile } = await loadExperiments();
      const { registeredBackbones } = await import('@sgfd/models');
      const spec = withBaseOverrides(await loadSuiteFile(resolve(file), registeredBackbones()), opts.set, file);
      if (opts.parallelism !== undefined) spec.parallelism = opts.parallelism;
      const cells = expandSuite(spec);
      const { codeVersion, resolveRunConfig } = await loadTraining();
      // The registry checks every cell's backbone and parameters before any cell starts.
      for (const cell of cells) resolveRunConfig(cell.config, `${file}: cell ${cell.id}`);
      const suiteId = opts.id ?? defaultSuiteId(spec.name);
      const input: ExperimentSuiteInput = {
        suiteId,
        spec,
        codeVersion: codeVersion(),
        continueAsNewAfterEvents: opts.continueAsNewAfter,
      };
      await withClient(opts, async ({ client, connection, target }) => {
        const missing = await queuesWithoutWorkers(connection, target.namespace);
        if (missing.length)
          note(
            cmd,
            `warning: no worker polls ${missing.join(', ')} yet; the suite waits until one does (start them with \`sgfd dev\`)`,
          );
        const handle = await client.workflow.start(EXPERIMENT_SUITE_WORKFLOW, {
          taskQueue: WORKFLOW_TASK_QUEUE,
          workflowId: suiteId,
          args: [input],
        });
        const ui = await webUiLink(target, suiteId);
        note(
          cmd,
          `started suite ${suiteId}: ${cells.length} cells, ${spec.parallelism} at a time${ui ? `\nWeb UI: ${ui}` : ''}`,
        );
        if (!opts.follow) {
          emit(cmd, { suiteId, workflowRunId: handle.firstExecutionRunId, cells: cells.length, webUi: ui }, () =>
            [`results: sgfd suite results ${suiteId}`, `cancel:  sgfd cancel ${suiteId}`].join('\n'),
          );
          return;
        }
        const result = await followSuite(client, suiteId, (cellId, error) =>
          note(cmd, `cell ${cellId} failed: ${error}`),
        );
        const text = globalsOf(cmd).json ? '' : await resultText(result);
        emit(cmd, result, () => text);
      });
    },
  );

  withConnectionOptions(
    suite
      .command('status')
      .description("a suite's progress: cells done / running / failed (with their errors) / pending")
      .argument('<id>', 'suite (workflow) id'),
  ).action(async (id: string, opts: ConnectionFlags, cmd: Command) => {
    await withClient(opts, async ({ client }) => {
      const { status } = await describeSuite(client, id);
      const p = await querySuite(client, id);
      if (!p)
        throw new SuiteNotFinishedError(`suite ${id} (${status.name}) has not been picked up by a workflow worker yet`);
      emit(cmd, { status: status.name, ...p }, () =>
        [
          suiteProgressLine(p),
          ...p.running.map((c) => `  running  ${c}`),
          ...p.failures.map((f) => `  failed   ${f.cellId}: ${f.error}`),
        ].join('\n'),
      );
    });
  });

  withConnectionOptions(
    suite
      .command('results')
      .description("a finished suite's report (Markdown; --json: the result with the comparison rows)")
      .argument('<id>', 'suite (workflow) id'),
  ).action(async (id: string, opts: ConnectionFlags, cmd: Command) => {
    await withClient(opts, async ({ client }) => {
      const handle = client.workflow.getHandle(id);
      const { status } = await describeSuite(client, id);
      if (status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW') {
        const p = await querySuite(client, id);
        throw new SuiteNotFinishedError(
          `suite ${id} is still running${p ? ` (${suiteProgressLine(p)})` : ''}: see \`sgfd suite status ${id}\``,
        );
      }
      let result: ExperimentSuiteResult;
      try {
        result = await handle.result();
      } catch (e) {
        if (e instanceof WorkflowFailedError)
          throw new RunFailedError(`suite ${id} ended ${status.name}: ${failureMessage(e)}`);
        throw e;
      }
      const text = globalsOf(cmd).json ? '' : await resultText(result);
      emit(cmd, result, () => text);
    });
  });
}
