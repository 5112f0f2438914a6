// Test metrics of each arm's selected point over seeds, and the Table-2 comparison against the baseline arm
// (relative improvement, paired t-test over seeds).
import { pairedTTest } from '@sgfd/metrics';
import { type BackboneName, type SgfdMode, type SuiteComparisonRow } from '@sgfd/contracts';
import { metricOfCell } from './cell-result';
import type { ArmSelection } from './select';
import { mean, sampleStd } from './stats';

export interface MetricOverSeeds {
  mean: number;
  std: number;
  /** One value per completed seed, in seed order. */
  values: { seed: number; value: number }[];
}

export interface ArmTestSummary {
  arm: string;
  dataset: string;
  backbone: BackboneName;
  mode: SgfdMode;
  point: string;
  hyperparameters: Record<string, number | string | boolean>;
  seeds: number[];
  bestEpochs: number[];
  /** Test metrics of the selected point, over seeds. */
  test: Record<string, MetricOverSeeds>;
  /** The selection metric on validation, over the same seeds. */
  valid: MetricOverSeeds;
}

function overSeeds(values: { seed: number; value: number }[]): MetricOverSeeds {
  const xs = values.map((v) => v.value);
  return { mean: mean(xs), std: sampleStd(xs), values };
}

/** Test metrics of every arm that has a selected point, averaged over its completed seeds. */
export function aggregateTest(selections: readonly ArmSelection[], metrics: readonly string[]): ArmTestSummary[] {
  return selections
    .filter((s) => s.selected !== null)
    .map((s) => {
      const test: Record<string, MetricOverSeeds> = {};
      for (const metric of metrics) {
        test[metric] = overSeeds(
          s.cells.map((c) => ({ seed: c.cell.seed, value: metricOfCell(c, 'test', metric, 'report.metrics') })),
        );
      }
      return {
        arm: s.arm,
        dataset: s.dataset,
        backbone: s.backbone,
        mode: s.mode,
        point: s.selected!,
        hyperparameters: s.points.find((p) => p.selected)!.hyperparameters,
        seeds: s.cells.map((c) => c.cell.seed),
        bestEpochs: s.cells.map((c) => c.bestEpoch),
        test,
        valid: overSeeds(s.cells.map((c) => ({ seed: c.cell.seed, value: c.valid[s.metric]! }))),
      };
    });
}

const DISTILLING: readonly SgfdMode[] = ['two-stage', 'joint'];

/**
 * The arms each mode is compared against: every arm against the report's baseline; when the suite also has
 * the `control` arm (and it is not the baseline), the distilling arms against it too, since only that
 * comparison isolates what distillation adds.
 */
export function comparisonsOf(modes: readonly SgfdMode[], baseline: SgfdMode): [SgfdMode, SgfdMode][] {
  const out: [SgfdMode, SgfdMode][] = [];
  for (const mode of modes) {
    if (mode !== baseline && modes.includes(baseline)) out.push([mode, baseline]);
    if (baseline !== 'control' && modes.includes('control') && DISTILLING.includes(mode)) out.push([mode, 'control']);
  }
  return out;
}

/**
 * One row per (dataset, backbone, comparison of comparisonsOf, metric): the arm against the other arm of the
 * same dataset and backbone. The t-test pairs the two arms' runs by seed (same data, same initialisation
 * seed).
 */
export function compareArms(
  arms: readonly ArmTestSummary[],
  baseline: SgfdMode,
  alpha: number,
  metrics: readonly string[],
): SuiteComparisonRow[] {
  const rows: SuiteComparisonRow[] = [];
  const modes = [...new Set(arms.map((a) => a.mode))];
  const comparisons = comparisonsOf(modes, baseline);
  for (const arm of arms) {
    for (const [mode, against] of comparisons) {
      if (arm.mode !== mode) continue;
      const base = arms.find((a) => a.dataset === arm.dataset && a.backbone === arm.backbone && a.mode === against);
      if (!base) continue;
      rows.push(...compareTwo(arm, base, alpha, metrics));
    }
  }
  return rows;
}

function compareTwo(
  arm: ArmTestSummary,
  base: ArmTestSummary,
  alpha: number,
  metrics: readonly string[],
): SuiteComparisonRow[] {
  return metrics.map((metric) => {
    const ours = arm.test[metric]!;
    const theirs = base.test[metric]!;
    const baseBySeed = new Map(theirs.values.map((v) => [v.seed, v.value]));
    const pairs = ours.values.filter((v) => baseBySeed.has(v.seed));
    let pValue: number | null = null;
    if (pairs.length >= 2) {
      const p = pairedTTest(
        pairs.map((v) => v.value),
        pairs.map((v) => baseBySeed.get(v.seed)!),
      ).pValue;
      pValue = Number.isFinite(p) ? p : null;
    }
    return {
      dataset: arm.dataset,
      backbone: arm.backbone,
      mode: arm.mode,
      baseline: base.mode,
      metric,
      baselineMean: theirs.mean,
      baselineStd: theirs.std,
      mean: ours.mean,
      std: ours.std,
      relativeGain: theirs.mean > 0 ? ours.mean / theirs.mean - 1 : null,
      pValue,
      pairs: pairs.length,
      significant: pValue !== null && pValue < alpha,
    };
  });
}
