import type { DatasetManifest } from '@sgfd/contracts';
import type { DatasetSummary } from '@sgfd/data';
import { formatNumber, keyValues } from './output';

export function snapshotText(result: {
  id: string;
  dir: string;
  created: boolean;
  repaired?: boolean;
  manifest: DatasetManifest;
}): string {
  const m = result.manifest;
  return keyValues([
    [
      'snapshot',
      `${result.id} (${result.repaired ? 'repaired: the existing copy was damaged and has been rewritten' : result.created ? 'created' : 'already present and verified, nothing written'})`,
    ],
    ['path', result.dir],
    ['users', formatNumber(m.counts.users)],
    ['items', formatNumber(m.counts.items)],
    [
      'interactions',
      `${formatNumber(m.counts.interactions)} (train ${formatNumber(m.counts.train)} / valid ${formatNumber(m.counts.valid)} / test ${formatNumber(m.counts.test)})`,
    ],
    ['categories', m.categories === null ? 'none (SGFD cannot run on this dataset)' : String(m.categories)],
    ['modalities', m.modalities.map((x) => `${x.name} (${x.dim}-d)`).join(', ') || 'none'],
  ]);
}

export function summaryText(s: DatasetSummary): string {
  const stats = (c: DatasetSummary['interactionsPerUser']): string =>
    `min ${c.min}, median ${formatNumber(c.median)}, mean ${formatNumber(c.mean, 3)}, max ${c.max}`;
  const lines = [
    keyValues([
      ['snapshot', s.id],
      ['source', `${s.source.kind}: ${s.source.description}`],
      ['users', formatNumber(s.users)],
      ['items', formatNumber(s.items)],
      ['interactions', formatNumber(s.interactions)],
      ['density', `${formatNumber(s.density * 100, 3)} %`],
      [
        'splits',
        `train ${formatNumber(s.splits.train)} / valid ${formatNumber(s.splits.valid)} / test ${formatNumber(s.splits.test)}`,
      ],
      ['per user', stats(s.interactionsPerUser)],
      ['per item', stats(s.interactionsPerItem)],
    ]),
    '',
    s.categoryHistogram === null
      ? 'categories: none (SGFD needs one category per item)'
      : categoryHistogramText(s.categoryHistogram),
  ];
  if (s.features.length === 0) lines.push('', 'features: none');
  else {
    lines.push('', 'features:');
    const header = ['modality', 'dim', 'mean', 'std', 'min', 'max', 'zeros', 'row norm'];
    const rows = s.features.map((f) => [
      f.modality,
      String(f.dim),
      formatNumber(f.mean, 3),
      formatNumber(f.std, 3),
      formatNumber(f.min, 3),
      formatNumber(f.max, 3),
      `${formatNumber(f.zeroFraction * 100, 3)} %`,
      formatNumber(f.meanRowNorm, 3),
    ]);
    lines.push(table([header, ...rows]));
  }
  return lines.join('\n');
}

function categoryHistogramText(histogram: number[]): string {
  const max = histogram.reduce((a, b) => Math.max(a, b), 0);
  const bar = (n: number): string => '#'.repeat(Math.max(n > 0 ? 1 : 0, Math.round((n / max) * 40)));
  const width = String(histogram.length - 1).length;
  return [
    `categories: ${histogram.length} (items per category)`,
    ...histogram.map((n, c) => `  ${String(c).padStart(width)} ${String(n).padStart(6)} ${bar(n)}`),
  ].join('\n');
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => `  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}`)
    .join('\n');
}
