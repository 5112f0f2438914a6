// Hyperparameter selection on VALIDATION only: for each (dataset, backbone, mode), the grid point with the
// best mean validation metric over seeds. Test metrics are never looked at here.
import { armKey, type BackboneName, type SgfdMode } from '@sgfd/contracts';
import { metricOfCell, type CellResult, type DoneCell } from './cell-result';
import { mean, sampleStd } from './stats';

export interface PointSummary {
  point: string;
  hyperparameters: Record<string, number | string | boolean>;
  seedsDone: number;
  seedsTotal: number;
  /** Mean and sample std of the validation metric over the seeds that completed; null when none did. */
  validMean: number | null;
  validStd: number | null;
  selected: boolean;
}

export interface ArmSelection {
  arm: string;
  dataset: string;
  backbone: BackboneName;
  mode: SgfdMode;
  /** The validation metric that chose. */
  metric: string;
  points: PointSummary[];
  /** The chosen point, or null when no cell of the arm completed. */
  selected: string | null;
  /** The completed cells of the chosen point (one per seed): the only cells whose test metrics are reported. */
  cells: DoneCell[];
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Chooses each arm's grid point by mean validation `metric` (higher is better). Only points with the most
 * completed seeds compete, so a point is never preferred because its bad seeds failed; ties go to the
 * earlier point. Arms come in the order of their first cell.
 */
export function selectOnValidation(results: readonly CellResult[], metric: string): ArmSelection[] {
  const arms: ArmSelection[] = [];
  for (const [arm, armResults] of groupBy(results, (r) => armKey(r.cell))) {
    const { dataset, backbone, mode } = armResults[0]!.cell;
    const points: PointSummary[] = [];
    const donePerPoint = new Map<string, DoneCell[]>();
    for (const [point, pointResults] of groupBy(armResults, (r) => r.cell.point)) {
      const done = pointResults.filter((r): r is DoneCell => r.status === 'done');
      donePerPoint.set(point, done);
      const values = done.map((r) => metricOfCell(r, 'valid', metric, 'selection.metric'));
      points.push({
        point,
        hyperparameters: pointResults[0]!.cell.hyperparameters,
        seedsDone: done.length,
        seedsTotal: pointResults.length,
        validMean: values.length ? mean(values) : null,
        validStd: values.length ? sampleStd(values) : null,
        selected: false,
      });
    }
    const mostSeeds = Math.max(...points.map((p) => p.seedsDone));
    let best: PointSummary | null = null;
    if (mostSeeds > 0) {
      for (const p of points) {
        if (p.seedsDone === mostSeeds && (best === null || p.validMean! > best.validMean!)) best = p;
      }
      best!.selected = true;
    }
    const cells = best ? [...donePerPoint.get(best.point)!].sort((a, b) => a.cell.seed - b.cell.seed) : [];
    arms.push({ arm, dataset, backbone, mode, metric, points, selected: best?.point ?? null, cells });
  }
  return arms;
}
