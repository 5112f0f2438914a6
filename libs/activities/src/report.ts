import type { DatasetManifest, MetricTable, RunManifest } from '@sgfd/contracts';

export const EVALUATION_FILES = {
  metrics: 'metrics.json',
  recommendations: 'recommendations.parquet',
  reportMarkdown: 'report.md',
  reportJson: 'report.json',
  curve: 'training-curve.svg',
  /** Per-user test metrics (users with test items, in id order): what a paired test across users reads. */
  perUserTest: 'per-user-test.json',
} as const;

/** The metrics stored per user in `per-user-test.json`. */
export const PER_USER_METRICS = ['recall@20', 'ndcg@20'] as const;

export interface PerUserTest {
  users: number[];
  metrics: Record<(typeof PER_USER_METRICS)[number], number[]>;
}

export interface RunReport {
  run: RunManifest;
  dataset: { id: string; counts: DatasetManifest['counts']; categories: number | null; source: string };
  model: {
    backbone: string;
    sgfd: string;
    bestEpoch: number;
    epochsRun: number;
    stoppedEarly: boolean;
    resumedFromEpoch: number | null;
  };
  metrics: { test: MetricTable; valid: MetricTable; popularity: MetricTable };
  recommendations: {
    k: number;
    users: number;
    excludes: string;
    /** The top items of the first few users, by the ids of the source (what `sgfd results` shows). */
    sample?: { user: string; items: string[] }[];
  };
  files: typeof EVALUATION_FILES;
}

/** Rows of a metric table (`recall@20` -> row recall, column 20), in the order metrics first appear. */
function grid(table: MetricTable): {
  names: string[];
  ks: number[];
  value(name: string, k: number): number | undefined;
} {
  const names: string[] = [];
  const ks = new Set<number>();
  for (const key of Object.keys(table)) {
    const [name, k] = key.split('@');
    if (!k || !/^\d+$/.test(k)) continue;
    if (!names.includes(name!)) names.push(name!);
    ks.add(Number(k));
  }
  return { names, ks: [...ks].sort((a, b) => a - b), value: (name, k) => table[`${name}@${k}`] };
}

const fmt = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));

/** A Markdown table with one row per metric (and per baseline), one column per cutoff. */
export function metricsMarkdown(rows: { label: string; table: MetricTable }[]): string {
  const { names, ks } = grid(rows[0]!.table);
  const lines = [`| metric | ${ks.map((k) => `@${k}`).join(' | ')} |`, `|---|${ks.map(() => '---:').join('|')}|`];
  for (const name of names) {
    for (const { label, table } of rows) {
      const g = grid(table);
      lines.push(`| ${name} (${label}) | ${ks.map((k) => fmt(g.value(name, k))).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

export function relativeGain(value: number, baseline: number): string {
  if (!(baseline > 0)) return 'n/a';
  const gain = (value / baseline - 1) * 100;
  return `${gain >= 0 ? '+' : ''}${gain.toFixed(1)} %`;
}

export function reportMarkdown(report: RunReport): string {
  const { run, dataset, model, metrics } = report;
  const c = dataset.counts;
  return [
    `# ${model.backbone.toUpperCase()}${model.sgfd === 'off' ? '' : model.sgfd === 'control' ? ' + SGFD students (control, no distillation)' : ` + SGFD (${model.sgfd})`}: run ${run.runId}`,
    '',
    `- Dataset: \`${dataset.id.slice(0, 16)}\` (${c.users} users, ${c.items} items, ${c.interactions} interactions: ` +
      `${c.train} train / ${c.valid} valid / ${c.test} test; ${dataset.categories ?? 'no'} categories), ${dataset.source}`,
    `- Model: best validation epoch ${model.bestEpoch} of ${model.epochsRun}${model.stoppedEarly ? ' (early stopped)' : ''}` +
      `${model.resumedFromEpoch !== null ? `, resumed from the epoch-${model.resumedFromEpoch} checkpoint` : ''}`,
    `- Seed ${run.seed}, backend ${run.backend}, code ${run.codeVersion}`,
    '',
    '## Test (full ranking over all items, training items excluded)',
    '',
    metricsMarkdown([
      { label: 'model', table: metrics.test },
      { label: 'popularity', table: metrics.popularity },
    ]),
    '',
    `Recall@20 against the most-popular baseline: ${relativeGain(metrics.test['recall@20'] ?? 0, metrics.popularity['recall@20'] ?? 0)}.`,
    '',
    '## Validation',
    '',
    metricsMarkdown([{ label: 'model', table: metrics.valid }]),
    '',
    '## Training curve',
    '',
    `![training loss and validation recall@20 per epoch](${EVALUATION_FILES.curve})`,
    '',
    ...sampleMarkdown(report.recommendations.sample),
    '## Files',
    '',
    `- \`${EVALUATION_FILES.recommendations}\`: top-${report.recommendations.k} items for each of the ${report.recommendations.users} users ` +
      `(columns user, rank, item, score, user_id, item_id: the source's ids; ${report.recommendations.excludes} excluded)`,
    `- \`${EVALUATION_FILES.metrics}\`, \`${EVALUATION_FILES.reportJson}\`: the numbers above as JSON`,
    '',
    '## Config',
    '',
    '```json',
    JSON.stringify(run.config, null, 2),
    '```',
    '',
  ].join('\n');
}

function sampleMarkdown(sample: RunReport['recommendations']['sample']): string[] {
  if (!sample?.length) return [];
  return [
    '## Recommendations (first users, ids of the source)',
    '',
    '| user | top items |',
    '|---|---|',
    ...sample.map(({ user, items }) => `| ${user} | ${items.join(', ')} |`),
    '',
  ];
}
