// experimentSuite: one trainPipeline child per grid cell (bounded parallelism), a failed cell recorded with
// its error without sinking the suite, continue-as-new before the history grows large, then the report
// (selection on validation, test metrics of the selected points) written by an activity on the eval queue.
// Deterministic workflow code: imports only @sgfd/contracts and @temporalio/workflow.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  WORKFLOW_TASK_QUEUE,
  expandSuite,
  parseSuiteSpec,
  stageActivityOptions,
  suiteCellWorkflowId,
  SUITE_PROGRESS_QUERY,
  type ExperimentSuiteInput,
  type ExperimentSuiteResult,
  type SuiteCell,
  type SuiteCellOutcome,
  type SuiteProgress,
  type SuiteReportActivities,
  type SuiteSpec,
  type TrainPipelineInput,
} from '@sgfd/contracts';
import { validateWorkflowInput } from './validate-input';
import { trainPipeline } from './trainPipeline';

export const suiteProgressQuery = defineQuery<SuiteProgress>(SUITE_PROGRESS_QUERY);

/** Continue as new past this many history events (Temporal's hard limit is 51,200; each cell adds ~10). */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

const now = () => new Date().toISOString();

const validSpec = (input: ExperimentSuiteInput): { spec: SuiteSpec; cells: SuiteCell[] } =>
  validateWorkflowInput('suite', input, ['suiteId', 'codeVersion'], (i) => {
    const spec = parseSuiteSpec(i.spec, `suite ${i.suiteId}`);
    return { spec, cells: expandSuite(spec) };
  });

/** The innermost cause of a child's failure, with its type: what a user needs to fix the cell. */
export function failureText(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (!(e instanceof Error)) return String(error);
  const type = e instanceof ApplicationFailure && e.type ? e.type : e.name;
  return type && type !== 'Error' && !e.message.startsWith(type) ? `${type}: ${e.message}` : e.message;
}

export async function experimentSuite(input: ExperimentSuiteInput): Promise<ExperimentSuiteResult> {
  const generation = input.generation ?? 0;
  const startedAt = input.startedAt ?? now();
  const outcomes = new Map<string, SuiteCellOutcome>((input.carried ?? []).map((o) => [o.cellId, o]));
  const running = new Set<string>();
  let phase: SuiteProgress['phase'] = 'running';
  let total = 0;

  const failures = () =>
    [...outcomes.values()].flatMap((o) => (o.status === 'failed' ? [{ cellId: o.cellId, error: o.error }] : []));
  setHandler(suiteProgressQuery, (): SuiteProgress => {
    const failed = failures();
    return {
      suiteId: input.suiteId,
      phase,
      total,
      done: outcomes.size - failed.length,
      failed: failed.length,
      running: [...running],
      pending: total - outcomes.size - running.size,
      failures: failed,
      generation,
      updatedAt: now(),
    };
  });

  try {
    const { spec, cells } = validSpec(input);
    total = cells.length;
    const limit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
    const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;

    const runCell = async (cell: SuiteCell): Promise<void> => {
      const workflowId = suiteCellWorkflowId(input.suiteId, cell.id);
      const pipelineInput: TrainPipelineInput = {
        runId: workflowId,
        dataset: cell.datasetSpec,
        config: cell.config,
        codeVersion: input.codeVersion,
        timeouts: input.timeouts,
      };
      running.add(cell.id);
      try {
        const summary = await executeChild(trainPipeline, {
          workflowId,
          taskQueue: WORKFLOW_TASK_QUEUE,
          args: [pipelineInput],
        });
        outcomes.set(cell.id, {
          cellId: cell.id,
          workflowId,
          status: 'done',
          model: summary.artifacts.model,
          evaluation: summary.artifacts.evaluation,
          bestEpoch: summary.bestEpoch,
        });
      } catch (e) {
        if (isCancellation(e)) throw e;
        outcomes.set(cell.id, { cellId: cell.id, workflowId, status: 'failed', error: failureText(e) });
      } finally {
        running.delete(cell.id);
      }
    };

    // Start cells while there is room; stop starting (and let the running ones finish) once the history is
    // large, then continue as new with the outcomes so far.
    const inFlight: Promise<void>[] = [];
    const pending = cells.filter((c) => !outcomes.has(c.id));
    let next = 0;
    try {
      // Every generation starts at least one cell, so a tiny limit still makes progress.
      const rotate = () => next > 0 && historyFull();
      while (next < pending.length && !rotate()) {
        await condition(() => running.size < spec.parallelism);
        if (rotate()) break;
        const cell = runCell(pending[next++]!);
        cell.catch(() => undefined); // awaited below; this only keeps a rejection from counting as unhandled
        inFlight.push(cell);
      }
      await Promise.all(inFlight);
    } catch (e) {
      // Cancelled: the children are being cancelled too; end only once they have stopped.
      await CancellationScope.nonCancellable(() => Promise.allSettled(inFlight));
      throw e;
    }
    if (next < pending.length) {
      await continueAsNew<typeof experimentSuite>({
        ...input,
        spec,
        carried: cells.flatMap((c) => (outcomes.has(c.id) ? [outcomes.get(c.id)!] : [])),
        generation: generation + 1,
        startedAt,
      });
    }

    phase = 'reporting';
    const { writeSuiteReport } = proxyActivities<SuiteReportActivities>(
      stageActivityOptions('eval', input.timeouts?.eval),
    );
    const ordered = cells.map((c) => outcomes.get(c.id)!);
    const report = await writeSuiteReport({
      suiteId: input.suiteId,
      spec,
      outcomes: ordered,
      codeVersion: input.codeVersion,
    });
    phase = 'done';
    const failed = failures();
    return {
      suiteId: input.suiteId,
      report: report.report,
      rows: report.rows,
      cells: { total, done: total - failed.length, failed: failed.length },
      failures: failed,
      startedAt,
      finishedAt: now(),
    };
  } catch (e) {
    phase = isCancellation(e) || CancellationScope.current().consideredCancelled ? 'cancelled' : 'failed';
    throw e;
  }
}
