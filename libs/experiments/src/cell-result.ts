import type { ArtifactRef, MetricTable, SuiteCell } from '@sgfd/contracts';

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
