import { ConfigError, type ArtifactRef, type MetricTable, type SuiteCell } from '@sgfd/contracts';

/** One validation measurement of a training curve (the epochs that were evaluated). */
export interface CurvePoint {
  epoch: number;
  value: number;
}

/** What the report knows of one cell: its numbers (read from its artifacts), or why it failed. */
export type CellResult =
  | {
      cell: SuiteCell;
      status: 'done';
      workflowId: string;
      model: ArtifactRef;
      evaluation: ArtifactRef;
      /** Metrics of the best-validation weights (early stopping chose the epoch on validation). */
      valid: MetricTable;
      test: MetricTable;
      bestEpoch: number;
      epochsRun: number;
      /** The selection metric on validation, per evaluated epoch. */
      curve: CurvePoint[];
    }
  | { cell: SuiteCell; status: 'failed'; workflowId: string; error: string };

export type DoneCell = Extract<CellResult, { status: 'done' }>;

/** A cell's validation or test value of `metric`; a metric the cell was not measured on is a config error of `field`. */
export function metricOfCell(result: DoneCell, split: 'valid' | 'test', metric: string, field: string): number {
  const table = result[split];
  const value = table[metric];
  if (value === undefined) {
    throw new ConfigError(
      `${field} names ${metric}, which is not among the ${split === 'valid' ? 'validation' : 'test'} metrics of cell ${result.cell.id}`,
      {
        field,
        expected: Object.keys(table).join(', '),
        found: metric,
      },
    );
  }
  return value;
}
