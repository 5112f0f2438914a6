// writeSuiteReport (eval queue): reads every finished cell's numbers from its artifacts (the evaluation's
// metrics.json, the model's training record), selects on validation, aggregates test metrics over seeds and
// stores the report (Markdown, JSON, CSV, SVG) as one `report` artifact.
import { writeFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import {
  ConfigError,
  expandSuite,
  parseSuiteSpec,
  type MetricTable,
  type SuiteCellOutcome,
  type SuiteReportActivities,
  type WriteSuiteReportInput,
  type WriteSuiteReportResult,
} from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import { buildSuiteReport, renderSuiteReport, type CellResult } from '@sgfd/experiments';
import { failingClearly } from './failures';
import { EVALUATION_FILES } from './report';
import { readTrainingRecord } from './student';

export interface SuiteDeps {
  store: ArtifactStore;
}

/** What a suite report artifact's manifest carries besides its files. */
export interface SuiteReportMeta {
  suiteId: string;
  name: string;
  cells: { total: number; done: number; failed: number };
  rows: WriteSuiteReportResult['rows'];
}

export function suiteReportKey(input: WriteSuiteReportInput): string {
  // The outcomes' artifact hashes pin every number the report is made of.
  const outcomes = input.outcomes.map((o) =>
    o.status === 'done'
      ? { cell: o.cellId, model: o.model.sha256, evaluation: o.evaluation.sha256 }
      : { cell: o.cellId, error: o.error },
  );
  return artifactKey({
    inputs: { suiteId: input.suiteId, outcomes },
    config: input.spec,
    codeVersion: input.codeVersion,
  });
}

async function readJson<T>(store: ArtifactStore, ref: Parameters<ArtifactStore['get']>[0], file: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await store.get(ref, file))) as T;
}

/** The cells' results in expansion order, numbers read from their artifacts. */
export async function readCellResults(
  store: ArtifactStore,
  input: WriteSuiteReportInput,
  onCell: () => void = () => undefined,
): Promise<CellResult[]> {
  const spec = parseSuiteSpec(input.spec, `suite ${input.suiteId}`);
  const cells = expandSuite(spec);
  const byId = new Map<string, SuiteCellOutcome>(input.outcomes.map((o) => [o.cellId, o]));
  const unknown = input.outcomes.find((o) => !cells.some((c) => c.id === o.cellId));
  if (unknown)
    throw new ConfigError('Suite outcome names a cell the suite does not have', {
      field: 'outcomes',
      found: unknown.cellId,
    });
  const results: CellResult[] = [];
  for (const cell of cells) {
    const outcome = byId.get(cell.id);
    if (!outcome)
      throw new ConfigError('Suite report needs an outcome for every cell', {
        field: 'outcomes',
        expected: cell.id,
        found: 'none',
      });
    onCell();
    if (outcome.status === 'failed') {
      results.push({ cell, status: 'failed', workflowId: outcome.workflowId, error: outcome.error });
      continue;
    }
    const metrics = await readJson<{ test: MetricTable; valid: MetricTable }>(
      store,
      outcome.evaluation,
      EVALUATION_FILES.metrics,
    );
    const training = await readTrainingRecord(store, outcome.model);
    const metric = spec.selection.metric;
    results.push({
      cell,
      status: 'done',
      workflowId: outcome.workflowId,
      model: outcome.model,
      evaluation: outcome.evaluation,
      valid: metrics.valid,
      test: metrics.test,
      bestEpoch: training.bestEpoch,
      epochsRun: training.epochsRun,
      curve: training.history.flatMap((r) =>
        r.valid && metric in r.valid ? [{ epoch: r.epoch, value: r.valid[metric]! }] : [],
      ),
    });
  }
  return results;
}

export function createSuiteActivities(deps: SuiteDeps): SuiteReportActivities {
  return {
    async writeSuiteReport(input: WriteSuiteReportInput): Promise<WriteSuiteReportResult> {
      return failingClearly(async () => {
        const context = Context.current();
        const key = suiteReportKey(input);
        const stored = await deps.store.withArtifact<SuiteReportMeta>({ kind: 'report', key }, async (staging) => {
          const results = await readCellResults(deps.store, input, () => context.heartbeat());
          const spec = parseSuiteSpec(input.spec);
          const report = buildSuiteReport(input.suiteId, spec, results);
          for (const [name, content] of Object.entries(renderSuiteReport(report)))
            await writeFile(await staging.path(name), content);
          return { suiteId: input.suiteId, name: spec.name, cells: report.cells, rows: report.rows };
        });
        return { report: stored.ref, reused: stored.reused, rows: stored.manifest.meta.rows };
      });
    },
  };
}
