// Text for a run's progress (fed by the workflow's progress query) and its results.
import type { MetricTable, PipelineProgress, RunSummary, Stage, StageProgress } from '@sgfd/contracts';
import { PIPELINE_STAGES } from '@sgfd/contracts';

const BAR_WIDTH = 20;

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

const MARK: Record<StageProgress['status'], string> = {
  pending: ' ',
  running: '>',
  done: '+',
  reused: '=',
  skipped: '-',
  failed: '!',
  cancelled: 'x',
};

const VALID_NAME: Partial<Record<Stage, string>> = { teacher: 'category acc', student: 'recall@20' };

/**
 * One line: every stage with its mark (+ done, = reused, - skipped, > running, ! failed, x cancelled), and for
 * the running training stage a bar over its epoch limit, the best validation metric and the ETA.
 */
export function progressLine(p: PipelineProgress): string {
  // Extraction runs only for raw catalogues: other runs do not show it.
  const shown = PIPELINE_STAGES.filter((s) => s !== 'extract' || p.stages[s]?.status !== 'skipped');
  const stages = shown.map((s) => `${MARK[p.stages[s]?.status ?? 'pending']}${s}`).join(' ');
  const running = shown.find((s) => p.stages[s]?.status === 'running');
  if (!running) return `${stages}  ${p.stage}`;
  const s = p.stages[running];
  if (s.epoch === null || !s.maxEpochs) return `${stages}  ${running}…`;
  if (running === 'extract') {
    // Extraction reports items done / items, its rate as bestValid and the encoder as backend.
    const rate = s.bestValid !== null ? `  ${s.bestValid.toFixed(1)} items/s` : '';
    const eta = p.etaSeconds !== null ? `  ETA ${duration(p.etaSeconds)}` : '';
    return `${stages}  extract ${bar(s.epoch / s.maxEpochs)} ${s.epoch}/${s.maxEpochs} items${rate}${eta}${s.backend ? `  (${s.backend})` : ''}`;
  }
  const best = s.bestValid !== null ? `  best ${VALID_NAME[running] ?? 'valid'} ${s.bestValid.toFixed(4)}` : '';
  const eta = p.etaSeconds !== null ? `  ETA <= ${duration(p.etaSeconds)}` : '';
  const engine = s.backend ? `  on ${s.backend}` : '';
  return `${stages}  ${running} ${bar(s.epoch / s.maxEpochs)} epoch ${s.epoch}/${s.maxEpochs}${best}${eta}${engine}`;
}

export const METRIC_NAMES = ['recall', 'ndcg', 'precision', 'map', 'hit'] as const;
export const CUTOFFS = [5, 10, 20, 50] as const;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const cell = (t: MetricTable, key: string) => (t[key] === undefined ? '' : t[key]!.toFixed(4));

/** Test metrics of the model and of the most-popular baseline, one row per metric and source. */
export function metricsTable(summary: Pick<RunSummary, 'test' | 'popularity'>): string {
  const rows: string[][] = [];
  for (const name of METRIC_NAMES) {
    rows.push([`${name}`, ...CUTOFFS.map((k) => cell(summary.test, `${name}@${k}`))]);
    rows.push([`${name} (popularity)`, ...CUTOFFS.map((k) => cell(summary.popularity, `${name}@${k}`))]);
  }
  return table(['test metric', ...CUTOFFS.map((k) => `@${k}`)], rows);
}

export function relativeGain(value: number | undefined, baseline: number | undefined): string {
  if (value === undefined || baseline === undefined || !(baseline > 0)) return 'n/a';
  const gain = (value / baseline - 1) * 100;
  return `${gain >= 0 ? '+' : ''}${gain.toFixed(1)} %`;
}

/** Several runs side by side on the headline metrics, with the relative gain of each over the first. */
export function comparisonTable(
  runs: { label: string; summary: RunSummary }[],
  keys = ['recall@10', 'recall@20', 'ndcg@10', 'ndcg@20'],
  withGains = true,
): string {
  const base = runs[0]!.summary;
  const rows = runs.map(({ label, summary }) => [label, ...keys.map((k) => cell(summary.test, k))]);
  rows.push(['most popular', ...keys.map((k) => cell(base.popularity, k))]);
  for (const { label, summary } of withGains ? runs.slice(1) : []) {
    rows.push([`gain of ${label}`, ...keys.map((k) => relativeGain(summary.test[k], base.test[k]))]);
  }
  return table(['test', ...keys], rows);
}

export function summaryText(summary: RunSummary, evaluationDir: string | null): string {
  const minutes = (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000;
  const reused = PIPELINE_STAGES.filter((s) => summary.reused[s]);
  return [
    `run ${summary.runId}: ${summary.backbone}${summary.sgfd === 'off' ? '' : ` + SGFD (${summary.sgfd})`}, seed ${summary.seed}, ` +
      `dataset ${summary.datasetId.slice(0, 12)}, best epoch ${summary.bestEpoch}, ${duration(minutes)}` +
      `${reused.length ? ` (reused: ${reused.join(', ')})` : ''}`,
    '',
    metricsTable(summary),
    '',
    `recall@20 vs most popular: ${relativeGain(summary.test['recall@20'], summary.popularity['recall@20'])}`,
    ...(evaluationDir
      ? [`report: ${evaluationDir}/report.md (recommendations.parquet, training-curve.svg beside it)`]
      : []),
  ].join('\n');
}
