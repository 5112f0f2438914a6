import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { ConfigError, expandSuite, parseSuiteSpec, type ArtifactRef, type SuiteCell } from '@sgfd/contracts';
import {
  PLOT,
  SUITE_REPORT_FILES,
  buildSuiteReport,
  mean,
  renderSuiteReport,
  sampleStd,
  validationPlotFile,
  type CellResult,
} from './index';

// Hand-made cell results (the numbers a suite's artifacts would hold) for: vbpr, off vs two-stage with two
// kdWeight points, 3 seeds. Two-stage point h0 has the best TEST numbers but the worse VALIDATION numbers:
// selection must pick h1.

const spec = parseSuiteSpec({
  name: 'unit',
  datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1 }],
  backbones: ['vbpr'],
  sgfd: ['off', 'two-stage'],
  seeds: [1, 2, 3],
  grid: { kdWeight: [0.1, 0.5] },
});
const cells = expandSuite(spec);

const ref = (kind: ArtifactRef['kind'], id: string): ArtifactRef => ({
  uri: `file:///store/${kind}/${id}`,
  sha256: 'a'.repeat(64),
  bytes: 1,
  kind,
});

function done(cell: SuiteCell, valid: number, recall: number, ndcg: number): CellResult {
  return {
    cell,
    status: 'done',
    workflowId: `unit.${cell.id}`,
    model: ref('model', cell.id),
    evaluation: ref('evaluation', cell.id),
    valid: { 'recall@20': valid, 'ndcg@20': valid / 2 },
    test: { 'recall@20': recall, 'ndcg@20': ndcg },
    bestEpoch: 2,
    epochsRun: 3,
    curve: [
      { epoch: 1, value: valid - 0.05 },
      { epoch: 2, value: valid },
      { epoch: 3, value: valid - 0.01 },
    ],
  };
}

const numbers: Record<string, [number, number, number]> = {
  // valid recall@20, test recall@20, test ndcg@20
  'tiny/vbpr/off/h0/s1': [0.2, 0.28, 0.1],
  'tiny/vbpr/off/h0/s2': [0.22, 0.29, 0.11],
  'tiny/vbpr/off/h0/s3': [0.21, 0.3, 0.12],
  'tiny/vbpr/two-stage/h0/s1': [0.25, 0.4, 0.2],
  'tiny/vbpr/two-stage/h0/s2': [0.26, 0.41, 0.2],
  'tiny/vbpr/two-stage/h1/s1': [0.3, 0.3, 0.12],
  'tiny/vbpr/two-stage/h1/s2': [0.31, 0.32, 0.131],
  'tiny/vbpr/two-stage/h1/s3': [0.29, 0.31, 0.139],
};
const results: CellResult[] = cells.map((cell) =>
  numbers[cell.id]
    ? done(cell, ...numbers[cell.id]!)
    : { cell, status: 'failed', workflowId: `unit.${cell.id}`, error: 'DatasetError: feature file | corrupt\n(row 3)' },
);

/** RFC 4180 CSV, enough for the report's files. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  return rows;
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['polyline', 'rect', 'text', 'line', 'g'].includes(name),
});

describe('statistics', () => {
  it('mean and sample std (n - 1) against hand values', () => {
    expect(mean([0.28, 0.29, 0.3])).toBeCloseTo(0.29, 12);
    expect(sampleStd([0.28, 0.29, 0.3])).toBeCloseTo(0.01, 12);
    expect(sampleStd([0.12, 0.131, 0.139])).toBeCloseTo(Math.sqrt(0.000182 / 2), 12);
    expect(sampleStd([5])).toBe(0);
  });
});

describe('suite report', () => {
  const report = buildSuiteReport('unit-1', spec, results);

  it('selects each arm on validation only, even when another point is better on test', () => {
    const twoStage = report.selection.find((s) => s.arm === 'tiny/vbpr/two-stage')!;
    expect(twoStage.selected).toBe('h1');
    expect(twoStage.points.map((p) => [p.point, p.seedsDone, p.seedsTotal])).toEqual([
      ['h0', 2, 3],
      ['h1', 3, 3],
    ]);
    expect(twoStage.points[1]!.validMean).toBeCloseTo(0.3, 12);
    expect(report.arms.find((a) => a.mode === 'two-stage')!.hyperparameters).toEqual({ kdWeight: 0.5 });
  });

  it('prefers points with every seed done over a better mean from fewer seeds', () => {
    const partial = results.map((r) =>
      r.cell.id === 'tiny/vbpr/two-stage/h1/s3'
        ? ({ cell: r.cell, status: 'failed', workflowId: 'x', error: 'boom' } as CellResult)
        : r.cell.id === 'tiny/vbpr/two-stage/h0/s3'
          ? done(r.cell, 0.24, 0.4, 0.2)
          : r,
    );
    const s = buildSuiteReport('unit-2', spec, partial).selection.find((x) => x.mode === 'two-stage')!;
    expect(s.selected).toBe('h0');
  });

  it('names the field and the cell when the selection or a report metric was not measured', () => {
    const errorOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const selection = errorOf(() =>
      buildSuiteReport('unit-3', { ...spec, selection: { ...spec.selection, metric: 'mrr@20' } }, results),
    );
    expect(selection).toBeInstanceOf(ConfigError);
    expect(selection.message).toMatch(
      /selection\.metric names mrr@20, which is not among the validation metrics of cell tiny\/vbpr\/off\/h0\/s1/,
    );
    expect(selection.location).toMatchObject({
      field: 'selection.metric',
      expected: 'recall@20, ndcg@20',
      found: 'mrr@20',
    });
    const reported = errorOf(() =>
      buildSuiteReport('unit-4', { ...spec, report: { ...spec.report, metrics: ['recall@20', 'hit@20'] } }, results),
    );
    expect(reported.location).toMatchObject({ field: 'report.metrics', found: 'hit@20' });
    expect(reported.message).toMatch(/not among the test metrics/);
  });

  it('averages the selected test metrics over seeds and runs the paired t-test against the baseline', () => {
    const [recall, ndcg] = report.rows;
    expect(recall).toMatchObject({
      dataset: 'tiny',
      backbone: 'vbpr',
      mode: 'two-stage',
      baseline: 'off',
      metric: 'recall@20',
      pairs: 3,
    });
    expect(recall!.baselineMean).toBeCloseTo(0.29, 12);
    expect(recall!.mean).toBeCloseTo(0.31, 12);
    expect(recall!.std).toBeCloseTo(0.01, 12);
    expect(recall!.relativeGain).toBeCloseTo(0.31 / 0.29 - 1, 12);
    // Differences 0.02, 0.03, 0.01: t = 2 sqrt(3) with 2 df, two-sided p = 1 - t / sqrt(t^2 + 2).
    const t1 = 2 * Math.sqrt(3);
    expect(recall!.pValue).toBeCloseTo(1 - t1 / Math.sqrt(t1 * t1 + 2), 6);
    expect(recall!.significant).toBe(false);
    // Differences 0.020, 0.021, 0.019: t = 20 sqrt(3).
    const t2 = 20 * Math.sqrt(3);
    expect(ndcg!.pValue).toBeCloseTo(1 - t2 / Math.sqrt(t2 * t2 + 2), 6);
    expect(ndcg!.significant).toBe(true);
    expect(ndcg!.relativeGain).toBeCloseTo(0.13 / 0.11 - 1, 12);
  });

  it('counts and reports failed cells with their error', () => {
    expect(report.cells).toEqual({ total: 9, done: 8, failed: 1 });
    expect(report.failures).toEqual([
      { cellId: 'tiny/vbpr/two-stage/h0/s3', error: 'DatasetError: feature file | corrupt\n(row 3)' },
    ]);
  });

  it('renders Markdown in the Table-2 shape: backbone, + SGFD, improvement with p and significance mark', () => {
    const md = renderSuiteReport(report)[SUITE_REPORT_FILES.markdown]!;
    expect(md).toContain('| Model | Recall@20 (%) | NDCG@20 (%) | seeds |');
    expect(md).toContain('| VBPR | 29.00 ± 1.00 | 11.00 ± 1.00 | 3 |');
    expect(md).toContain('| VBPR + SGFD | 31.00 ± 1.00 | 13.00 ± 0.95 | 3 |');
    expect(md).toContain('| *Improv. vs off* | +6.90 % (p = 0.074) | +18.18 % (p < 0.001) * | 3 pairs |');
    expect(md).toContain('| tiny/vbpr/two-stage | h1 | kdWeight=0.5 | 0.3000 ± 0.0100 | 3/3 | ✓ (2, 2, 2) |');
    expect(md).toContain('| tiny/vbpr/two-stage | h0 | kdWeight=0.1 | 0.2550 ± 0.0071 | 2/3 |  |');
    // The failure's pipe and newline do not break the table.
    expect(md).toContain('| tiny/vbpr/two-stage/h0/s3 | DatasetError: feature file \\| corrupt (row 3) |');
    expect(md).toContain(`](${validationPlotFile('tiny', 'vbpr')})`);
  });

  it('writes CSVs whose numbers match the report, with test metrics only for selected cells', () => {
    const files = renderSuiteReport(report);
    const [header, ...rows] = parseCsv(files[SUITE_REPORT_FILES.table]!);
    expect(header).toEqual([
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
    ]);
    expect(rows).toHaveLength(2);
    expect(Number(rows[1]![7])).toBeCloseTo(0.13, 12);
    expect(rows[1]![12]).toBe('true');

    const [cellHeader, ...cellRows] = parseCsv(files[SUITE_REPORT_FILES.cells]!);
    const col = (name: string) => cellHeader!.indexOf(name);
    expect(cellRows).toHaveLength(9);
    const h0 = cellRows.find((r) => r[col('id')] === 'tiny/vbpr/two-stage/h0/s1')!;
    expect(h0[col('selected')]).toBe('false');
    expect(h0[col('valid.recall@20')]).toBe('0.25');
    expect(h0[col('test.recall@20')]).toBe('');
    const h1 = cellRows.find((r) => r[col('id')] === 'tiny/vbpr/two-stage/h1/s2')!;
    expect(h1[col('test.ndcg@20')]).toBe('0.131');
    expect(h1[col('hyperparameters')]).toBe('kdWeight=0.5');
    const failed = cellRows.find((r) => r[col('status')] === 'failed')!;
    expect(failed[col('error')]).toBe('DatasetError: feature file | corrupt\n(row 3)');
  });

  it('writes JSON that parses back to the report', () => {
    expect(JSON.parse(renderSuiteReport(report)[SUITE_REPORT_FILES.json]!)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('draws well-formed validation-curve SVG whose lines carry and place the selected cells’ points', () => {
    const svg = renderSuiteReport(report)[validationPlotFile('tiny', 'vbpr')]!;
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = xml.parse(svg).svg;
    const lines = doc.polyline as Record<string, string>[];
    expect(lines.map((l) => l['data-label'])).toEqual([
      'off seed 1',
      'off seed 2',
      'off seed 3',
      'two-stage seed 1',
      'two-stage seed 2',
      'two-stage seed 3',
    ]);
    expect(lines[4]!['data-values']).toBe('0.26 0.31 0.3');
    expect(lines[4]!['data-epochs']).toBe('1 2 3');
    // y of every point: the global max (0.31) at the top of the plot area, the min (0.15) at its bottom.
    const ys = lines.flatMap((l) => l.points!.split(' ').map((p) => Number(p.split(',')[1])));
    expect(Math.min(...ys)).toBeCloseTo(PLOT.top, 1);
    expect(Math.max(...ys)).toBeCloseTo(PLOT.height - PLOT.bottom, 1);
    const xs = lines[0]!.points!.split(' ').map((p) => Number(p.split(',')[0]));
    expect(xs[0]).toBeCloseTo(PLOT.left, 1);
    expect(xs[2]).toBeCloseTo(PLOT.width - PLOT.right, 1);
  });

  it('draws a well-formed gains bar chart with bar heights proportional to the gains', () => {
    const svg = renderSuiteReport(report)[SUITE_REPORT_FILES.gains]!;
    expect(XMLValidator.validate(svg)).toBe(true);
    const bars = (xml.parse(svg).svg.rect as Record<string, string>[]).filter((r) => r.class === 'bar');
    expect(bars.map((b) => [b['data-label'], b['data-significant']])).toEqual([
      ['tiny/vbpr two-stage vs off recall@20', 'false'],
      ['tiny/vbpr two-stage vs off ndcg@20', 'true'],
    ]);
    expect(Number(bars[1]!['data-value'])).toBeCloseTo(0.13 / 0.11 - 1, 12);
    const h = bars.map((b) => Number(b.height));
    expect(h[1]! / h[0]!).toBeCloseTo((0.13 / 0.11 - 1) / (0.31 / 0.29 - 1), 1);
    // Both gains are positive: the bars stand on the zero line, which is at the bottom (no negative gain).
    const zero = (xml.parse(svg).svg.line as Record<string, string>[]).find((l) => l.class === 'zero')!;
    for (const b of bars) expect(Number(b.y) + Number(b.height)).toBeCloseTo(Number(zero.y1), 1);
  });

  it('draws a negative gain below the zero line', () => {
    const worse = results.map((r) =>
      r.status === 'done' && r.cell.mode === 'two-stage'
        ? { ...r, test: { 'recall@20': r.test['recall@20']! - 0.1, 'ndcg@20': r.test['ndcg@20']! } }
        : r,
    );
    const svg = renderSuiteReport(buildSuiteReport('unit-3', spec, worse))[SUITE_REPORT_FILES.gains]!;
    const doc = xml.parse(svg).svg;
    const [recallBar] = (doc.rect as Record<string, string>[]).filter((r) => r.class === 'bar');
    const zero = (doc.line as Record<string, string>[]).find((l) => l.class === 'zero')!;
    expect(Number(recallBar!['data-value'])).toBeLessThan(0);
    expect(Number(recallBar!.y)).toBeCloseTo(Number(zero.y1), 1);
  });
});

describe('a suite with the control arm (off, control, two-stage)', () => {
  const attribution = parseSuiteSpec({
    name: 'attribution',
    datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1 }],
    backbones: ['bm3'],
    sgfd: ['off', 'control', 'two-stage'],
    seeds: [1, 2, 3],
    grid: { kdWeight: [0.1, 0.5], latentDim: [64] },
  });
  const attributionCells = expandSuite(attribution);
  // test recall@20 per seed: off 0.30 0.31 0.32; control 0.27 0.29 0.28; two-stage 0.33 0.32 0.34.
  const recall: Record<string, number[]> = {
    off: [0.3, 0.31, 0.32],
    control: [0.27, 0.29, 0.28],
    'two-stage': [0.33, 0.32, 0.34],
  };
  const results = attributionCells.map((cell) =>
    done(cell, 0.2, recall[cell.mode]![cell.seed - 1]!, recall[cell.mode]![cell.seed - 1]! / 2),
  );
  const built = buildSuiteReport('attr-1', attribution, results);

  it('crosses the loss weights with the distilling arm only, and latentDim with control too', () => {
    const count = (mode: string) => attributionCells.filter((c) => c.mode === mode).length;
    expect([count('off'), count('control'), count('two-stage')]).toEqual([3, 3, 6]);
  });

  it('compares control against off, and SGFD against both off and control, each with its paired t-test', () => {
    const rows = built.rows.filter((r) => r.metric === 'recall@20');
    expect(rows.map((r) => `${r.mode} vs ${r.baseline}`)).toEqual([
      'control vs off',
      'two-stage vs off',
      'two-stage vs control',
    ]);
    const overControl = rows[2]!;
    expect(overControl.baselineMean).toBeCloseTo(0.28, 12);
    expect(overControl.mean).toBeCloseTo(0.33, 12);
    expect(overControl.relativeGain).toBeCloseTo(0.33 / 0.28 - 1, 12);
    // Differences 0.06, 0.03, 0.06: mean 0.05, sd sqrt(0.0003) = 0.01732; t = 5, 2 df: p = 1 - t / sqrt(t^2 + 2).
    expect(overControl.pValue).toBeCloseTo(1 - 5 / Math.sqrt(27), 6);
  });

  it('prints both gains under the SGFD row and draws one gain plot per backbone with the p-values', () => {
    const files = renderSuiteReport(built);
    const md = files[SUITE_REPORT_FILES.markdown]!;
    expect(md).toMatch(
      /\| BM3 \+ SGFD \|[^\n]*\n\| \*Improv\. vs off\* \| \+6\.45 %[^\n]*\n\| \*Improv\. vs control\* \| \+17\.86 %/,
    );
    const plot = files['plots/gains-tiny-bm3.svg']!;
    expect(XMLValidator.validate(plot)).toBe(true);
    expect(plot).toContain('two-stage vs control recall@20 (p = 0.038)');
    expect(md).toContain('](plots/gains-tiny-bm3.svg)');
    expect(md).toContain('against arm X (`off`, and `control` for the distilling arms when the suite has it:');
  });

  it('with the control as the baseline, compares SGFD against it once and says so once', () => {
    const againstControl = parseSuiteSpec({
      ...attribution,
      sgfd: ['control', 'two-stage'],
      report: { baseline: 'control' },
    });
    const cells = expandSuite(againstControl);
    const report = buildSuiteReport(
      'attr-2',
      againstControl,
      cells.map((cell) => done(cell, 0.2, recall[cell.mode]![cell.seed - 1]!, recall[cell.mode]![cell.seed - 1]! / 2)),
    );
    expect(report.rows.filter((r) => r.metric === 'recall@20').map((r) => `${r.mode} vs ${r.baseline}`)).toEqual([
      'two-stage vs control',
    ]);
    const md = renderSuiteReport(report)[SUITE_REPORT_FILES.markdown]!;
    expect(md).toContain('against arm X (`control`: the same students without distillation');
    expect(md.match(/\*Improv\. vs control\*/g)).toHaveLength(1);
  });
});
