// Files of the suite report: Markdown (the paper's Table 2 shape), JSON, CSV and SVG plots.
import type { SuiteComparisonRow } from '@sgfd/contracts';
import type { ArmTestSummary } from './aggregate';
import { gainsPlotFile, SUITE_REPORT_FILES, validationPlotFile, type SuiteReport } from './report';
import { gainsBarSvg, validationCurvesSvg } from './svg';

const MODE_NAMES: Record<string, string> = {
  off: '',
  control: ' + students, no distillation (control)',
  'two-stage': ' + SGFD',
  joint: ' + SGFD (joint)',
};
const armName = (backbone: string, mode: string) => `${backbone.toUpperCase()}${MODE_NAMES[mode] ?? ` (${mode})`}`;
/** Metrics in percent, two decimals, as the paper prints them. */
const pct = (v: number) => (v * 100).toFixed(2);
const metricTitle = (m: string) => {
  const [name, k] = m.split('@');
  const names: Record<string, string> = {
    recall: 'Recall',
    ndcg: 'NDCG',
    precision: 'Precision',
    map: 'MAP',
    hit: 'Hit',
  };
  return `${names[name!] ?? name}@${k}`;
};
const unique = <T>(xs: readonly T[]) => [...new Set(xs)];

export function formatGain(gain: number | null): string {
  if (gain === null) return 'n/a';
  return `${gain >= 0 ? '+' : ''}${(gain * 100).toFixed(2)} %`;
}

export function formatP(p: number | null): string {
  if (p === null) return 'p n/a';
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

const hyper = (h: Record<string, unknown>) =>
  Object.keys(h).length
    ? Object.entries(h)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '(defaults)';

function table2(report: SuiteReport, dataset: string): string[] {
  const arms = report.arms.filter((a) => a.dataset === dataset);
  const cell = (a: ArmTestSummary, m: string) => `${pct(a.test[m]!.mean)} ± ${pct(a.test[m]!.std)}`;
  const lines = [
    `| Model | ${report.metrics.map((m) => `${metricTitle(m)} (%)`).join(' | ')} | seeds |`,
    `|---|${report.metrics.map(() => '---:').join('|')}|---:|`,
  ];
  for (const backbone of unique(arms.map((a) => a.backbone))) {
    const base = arms.find((a) => a.backbone === backbone && a.mode === report.baseline);
    if (base)
      lines.push(
        `| ${armName(backbone, base.mode)} | ${report.metrics.map((m) => cell(base, m)).join(' | ')} | ${base.seeds.length} |`,
      );
    for (const arm of arms.filter((a) => a.backbone === backbone && a.mode !== report.baseline)) {
      lines.push(
        `| ${armName(backbone, arm.mode)} | ${report.metrics.map((m) => cell(arm, m)).join(' | ')} | ${arm.seeds.length} |`,
      );
      const rows = report.rows.filter((r) => r.dataset === dataset && r.backbone === backbone && r.mode === arm.mode);
      for (const against of unique(rows.map((r) => r.baseline))) {
        const improv = report.metrics.map((m) => {
          const r = rows.find((x) => x.metric === m && x.baseline === against)!;
          return `${formatGain(r.relativeGain)} (${formatP(r.pValue)})${r.significant ? ' *' : ''}`;
        });
        const pairs = rows.find((r) => r.baseline === against)!.pairs;
        lines.push(`| *Improv. vs ${against}* | ${improv.join(' | ')} | ${pairs} pairs |`);
      }
    }
  }
  return lines;
}

export function suiteMarkdown(report: SuiteReport): string {
  const out: string[] = [`# Experiment suite \`${report.name}\` (${report.suiteId})`, ''];
  if (report.description) out.push(report.description, '');
  out.push(
    `- Cells: ${report.cells.done} done, ${report.cells.failed} failed, ${report.cells.total} in all.`,
    `- Hyperparameters and epochs chosen on **validation only** (${report.selectionMetric}; epochs by early stopping on validation); ` +
      `test metrics below are those of each arm's selected point, mean ± sample std over seeds.`,
    `- *Improv. vs X*: relative gain of the mean against arm X (${comparedArms(report.baseline)}); ` +
      `paired two-sided t-test over seeds; * marks p < ${report.alpha}.`,
    '',
  );
  for (const dataset of unique(report.arms.map((a) => a.dataset))) {
    out.push(`## ${dataset}`, '', ...table2(report, dataset), '');
    for (const backbone of unique(report.arms.filter((a) => a.dataset === dataset).map((a) => a.backbone))) {
      out.push(
        `![validation ${report.selectionMetric} per epoch, ${dataset} ${backbone}](${validationPlotFile(dataset, backbone)})`,
        '',
      );
      if (report.rows.some((r) => r.dataset === dataset && r.backbone === backbone))
        out.push(`![test gains with p-values, ${dataset} ${backbone}](${gainsPlotFile(dataset, backbone)})`, '');
    }
  }
  if (report.rows.length)
    out.push('## Gains', '', `![relative gains of every comparison](${SUITE_REPORT_FILES.gains})`, '');

  out.push(
    '## Selection (validation only)',
    '',
    `| arm | point | hyperparameters | valid ${report.selectionMetric} | seeds done | selected (best epoch per seed) |`,
    '|---|---|---|---:|---:|:---|',
  );
  for (const s of report.selection) {
    for (const p of s.points) {
      const valid = p.validMean === null ? '—' : `${p.validMean.toFixed(4)} ± ${p.validStd!.toFixed(4)}`;
      const epochs = report.arms.find((a) => a.arm === s.arm)?.bestEpochs.join(', ');
      out.push(
        `| ${s.arm} | ${p.point} | ${hyper(p.hyperparameters)} | ${valid} | ${p.seedsDone}/${p.seedsTotal} | ${p.selected ? `✓ (${epochs})` : ''} |`,
      );
    }
  }
  out.push('');
  const unselected = report.selection.filter((s) => s.selected === null);
  if (unselected.length) out.push(`No cell completed for: ${unselected.map((s) => s.arm).join(', ')}.`, '');

  if (report.failures.length) {
    out.push('## Failed cells', '', '| cell | error |', '|---|---|');
    for (const f of report.failures)
      out.push(`| ${f.cellId} | ${f.error.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')} |`);
    out.push('');
  }
  out.push(
    '## Files',
    '',
    `- \`${SUITE_REPORT_FILES.json}\`: everything above as JSON`,
    `- \`${SUITE_REPORT_FILES.table}\`: the comparison rows`,
    `- \`${SUITE_REPORT_FILES.cells}\`: every cell (validation metrics; test metrics only for selected cells; artifact URIs)`,
    '',
  );
  return out.join('\n');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly unknown[][]): string {
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

export function comparisonCsv(rows: readonly SuiteComparisonRow[]): string {
  const header = [
    'dataset',
    'backbone',
    'mode',
    'baseline',
    'metric',
    'baseline_mean',
    'baseline_std',
    'mean',
    'std',
    'relative_gain',
    'p_value',
    'pairs',
    'significant',
  ] as const;
  return toCsv(
    header,
    rows.map((r) => [
      r.dataset,
      r.backbone,
      r.mode,
      r.baseline,
      r.metric,
      r.baselineMean,
      r.baselineStd,
      r.mean,
      r.std,
      r.relativeGain,
      r.pValue,
      r.pairs,
      r.significant ? 'true' : 'false',
    ]),
  );
}

export function cellsCsv(report: SuiteReport): string {
  const validKeys = unique(report.cellRows.flatMap((r) => Object.keys(r.valid ?? {}))).sort();
  const testKeys = unique(report.cellRows.flatMap((r) => Object.keys(r.test ?? {}))).sort();
  const header = [
    'id',
    'dataset',
    'backbone',
    'mode',
    'point',
    'seed',
    'hyperparameters',
    'status',
    'selected',
    'best_epoch',
    'epochs_run',
    ...validKeys.map((k) => `valid.${k}`),
    ...testKeys.map((k) => `test.${k}`),
    'error',
    'workflow_id',
    'model',
    'evaluation',
  ];
  return toCsv(
    header,
    report.cellRows.map((r) => [
      r.id,
      r.dataset,
      r.backbone,
      r.mode,
      r.point,
      r.seed,
      hyper(r.hyperparameters),
      r.status,
      r.selected ? 'true' : 'false',
      r.bestEpoch,
      r.epochsRun,
      ...validKeys.map((k) => r.valid?.[k]),
      ...testKeys.map((k) => r.test?.[k]),
      r.error,
      r.workflowId,
      r.model,
      r.evaluation,
    ]),
  );
}

/** Every file of the report: path inside the report artifact -> content. */
export function renderSuiteReport(report: SuiteReport): Record<string, string> {
  const files: Record<string, string> = {
    [SUITE_REPORT_FILES.markdown]: suiteMarkdown(report),
    [SUITE_REPORT_FILES.json]: `${JSON.stringify(report, null, 2)}\n`,
    [SUITE_REPORT_FILES.table]: comparisonCsv(report.rows),
    [SUITE_REPORT_FILES.cells]: cellsCsv(report),
    [SUITE_REPORT_FILES.gains]: gainsBarSvg(
      'Relative gains (test, selected points)',
      report.rows.map((r) => ({
        label: `${r.dataset}/${r.backbone} ${r.mode} vs ${r.baseline} ${r.metric}`,
        value: r.relativeGain ?? 0,
        significant: r.significant,
      })),
    ),
  };
  for (const pair of unique(report.rows.map((r) => `${r.dataset}\u0000${r.backbone}`))) {
    const [dataset, backbone] = pair.split('\u0000') as [string, string];
    files[gainsPlotFile(dataset, backbone)] = gainsBarSvg(
      `${dataset}: ${backbone.toUpperCase()}, relative test gains (p-values over seeds)`,
      report.rows
        .filter((r) => r.dataset === dataset && r.backbone === backbone)
        .map((r) => ({
          label: `${r.mode} vs ${r.baseline} ${r.metric} (${formatP(r.pValue)})`,
          value: r.relativeGain ?? 0,
          significant: r.significant,
        })),
    );
  }
  const pairs = unique(report.curves.map((c) => `${c.dataset}\u0000${c.backbone}`));
  for (const pair of pairs) {
    const [dataset, backbone] = pair.split('\u0000') as [string, string];
    const series = report.curves
      .filter((c) => c.dataset === dataset && c.backbone === backbone)
      .map((c) => ({ label: `${c.mode} seed ${c.seed}`, group: armName(backbone, c.mode).trim(), points: c.points }));
    files[validationPlotFile(dataset, backbone)] = validationCurvesSvg(
      `${dataset}: ${backbone.toUpperCase()}, selected points`,
      report.selectionMetric,
      series,
    );
  }
  return files;
}

/** The arms the gains are taken against, as the report's legend names them. */
function comparedArms(baseline: string): string {
  const control = 'the same students without distillation, which isolates what distillation adds';
  return baseline === 'control'
    ? `\`control\`: ${control}`
    : `\`${baseline}\`, and \`control\` for the distilling arms when the suite has it: ${control}`;
}
