// The suite report as data: selection on validation, test metrics of the selected points over seeds, the
// comparison against the baseline, and the outcome of every cell. Renderers turn it into files.
import type { SuiteComparisonRow, SuiteSpec } from '@sgfd/contracts';
import { aggregateTest, compareArms, type ArmTestSummary } from './aggregate';
import type { CellResult, CurvePoint } from './cell-result';
import { selectOnValidation, type ArmSelection, type PointSummary } from './select';

export const SUITE_REPORT_FILES = {
  markdown: 'report.md',
  json: 'report.json',
  table: 'table.csv',
  cells: 'cells.csv',
  gains: 'plots/gains.svg',
} as const;

/** plots/gains-<dataset>-<backbone>.svg: every comparison of one backbone, with its p-value. */
export const gainsPlotFile = (dataset: string, backbone: string): string => `plots/gains-${dataset}-${backbone}.svg`;

/** plots/validation-<dataset>-<backbone>.svg */
export const validationPlotFile = (dataset: string, backbone: string): string =>
  `plots/validation-${dataset}-${backbone}.svg`;

export interface CellRow {
  id: string;
  workflowId: string;
  dataset: string;
  backbone: string;
  mode: string;
  point: string;
  seed: number;
  hyperparameters: Record<string, number | string | boolean>;
  status: 'done' | 'failed';
  error: string | null;
  /** True for the cells of each arm's selected point. */
  selected: boolean;
  bestEpoch: number | null;
  epochsRun: number | null;
  /** Validation metrics of every completed cell. */
  valid: Record<string, number> | null;
  /** Test metrics only for selected cells: nothing else may be compared on test. */
  test: Record<string, number> | null;
  model: string | null;
  evaluation: string | null;
}

export interface SuiteReport {
  suiteId: string;
  name: string;
  description: string | null;
  selectionMetric: string;
  metrics: string[];
  /** The report's baseline arm; distilling arms are also compared against `control` when it ran. */
  baseline: string;
  alpha: number;
  cells: { total: number; done: number; failed: number };
  failures: { cellId: string; error: string }[];
  selection: (Omit<ArmSelection, 'cells'> & { points: PointSummary[] })[];
  arms: ArmTestSummary[];
  rows: SuiteComparisonRow[];
  cellRows: CellRow[];
  /** Validation curves of the selected cells (arm -> seed -> points), for the plots. */
  curves: { arm: string; dataset: string; backbone: string; mode: string; seed: number; points: CurvePoint[] }[];
}

/** Builds the report from every cell's result (in expansion order). */
export function buildSuiteReport(suiteId: string, spec: SuiteSpec, results: readonly CellResult[]): SuiteReport {
  const metrics = [...spec.report.metrics];
  const selections = selectOnValidation(results, spec.selection.metric);
  const arms = aggregateTest(selections, metrics);
  const rows = compareArms(arms, spec.report.baseline, spec.report.alpha, metrics);
  const selectedIds = new Set(selections.flatMap((s) => s.cells.map((c) => c.cell.id)));

  const cellRows: CellRow[] = results.map((r) => {
    const { cell } = r;
    const common = {
      id: cell.id,
      workflowId: r.workflowId,
      dataset: cell.dataset,
      backbone: cell.backbone,
      mode: cell.mode,
      point: cell.point,
      seed: cell.seed,
      hyperparameters: cell.hyperparameters,
      selected: selectedIds.has(cell.id),
    };
    if (r.status === 'failed') {
      return {
        ...common,
        status: 'failed',
        error: r.error,
        bestEpoch: null,
        epochsRun: null,
        valid: null,
        test: null,
        model: null,
        evaluation: null,
      };
    }
    return {
      ...common,
      status: 'done',
      error: null,
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      valid: r.valid,
      test: common.selected ? r.test : null,
      model: r.model.uri,
      evaluation: r.evaluation.uri,
    };
  });

  const failures = results
    .filter((r) => r.status === 'failed')
    .map((r) => ({ cellId: r.cell.id, error: (r as { error: string }).error }));
  return {
    suiteId,
    name: spec.name,
    description: spec.description ?? null,
    selectionMetric: spec.selection.metric,
    metrics,
    baseline: spec.report.baseline,
    alpha: spec.report.alpha,
    cells: { total: results.length, done: results.length - failures.length, failed: failures.length },
    failures,
    selection: selections.map((s) => ({
      arm: s.arm,
      dataset: s.dataset,
      backbone: s.backbone,
      mode: s.mode,
      metric: s.metric,
      points: s.points,
      selected: s.selected,
    })),
    arms,
    rows,
    cellRows,
    curves: selections.flatMap((s) =>
      s.cells.map((c) => ({
        arm: s.arm,
        dataset: s.dataset,
        backbone: s.backbone,
        mode: s.mode,
        seed: c.cell.seed,
        points: c.curve,
      })),
    ),
  };
}
