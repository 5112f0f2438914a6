// Small, dependency-free SVG plots for the suite report. Every drawn mark carries its raw numbers as data-*
// attributes, so the plots can be checked (and scraped) by parsing.

interface Layout {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}
/** Validation curves: the legend on the right. */
export const PLOT: Layout = { width: 640, height: 360, left: 64, right: 170, top: 40, bottom: 48 };
/** The bar chart: room below for the slanted bar labels. */
export const BARS: Layout = { width: 660, height: 440, left: 110, right: 150, top: 40, bottom: 150 };
const innerWidth = (l: Layout) => l.width - l.left - l.right;
const innerHeight = (l: Layout) => l.height - l.top - l.bottom;
const PLOT_W = innerWidth(PLOT);
const PLOT_H = innerHeight(PLOT);

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number) => Number(v.toFixed(2)).toString();
const tick = (v: number) => Number(v.toPrecision(3)).toString();

/** A linear map from [d0, d1] onto [r0, r1]; a degenerate domain is widened so lines stay visible. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (!(d1 > d0)) [d0, d1] = [d0 - 0.5, d0 + 0.5];
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

function frame(title: string, body: string[], l: Layout = PLOT): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="${l.left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect class="plot-area" x="${l.left}" y="${l.top}" width="${innerWidth(l)}" height="${innerHeight(l)}" fill="none" stroke="#bbb"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface CurveSeries {
  label: string;
  /** Series with the same group share a colour (e.g. one SGFD mode, several seeds). */
  group: string;
  points: { epoch: number; value: number }[];
}

/** Validation metric per epoch, one polyline per series, a colour per group. */
export function validationCurvesSvg(title: string, metric: string, series: readonly CurveSeries[]): string {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value));
  if (all.length === 0)
    return frame(title, [
      `<text x="${PLOT.left + 8}" y="${PLOT.top + 20}" font-size="12">no validation measurements</text>`,
    ]);
  const epochs = all.map((p) => p.epoch);
  const values = all.map((p) => p.value);
  const [xMin, xMax] = [Math.min(...epochs), Math.max(...epochs)];
  const [yMin, yMax] = [Math.min(...values), Math.max(...values)];
  const sx = linearScale(xMin, xMax, PLOT.left, PLOT.left + PLOT_W);
  const sy = linearScale(yMin, yMax, PLOT.top + PLOT_H, PLOT.top);
  const groups = [...new Set(series.map((s) => s.group))];
  const colour = (group: string) => PALETTE[groups.indexOf(group) % PALETTE.length]!;
  const body = [
    `<g class="y-axis" data-min="${yMin}" data-max="${yMax}" font-size="10" text-anchor="end">`,
    `<text x="${PLOT.left - 6}" y="${PLOT.top + 4}">${tick(yMax)}</text>`,
    `<text x="${PLOT.left - 6}" y="${PLOT.top + PLOT_H}">${tick(yMin)}</text>`,
    `</g>`,
    `<g class="x-axis" data-min="${xMin}" data-max="${xMax}" font-size="10">`,
    `<text x="${PLOT.left}" y="${PLOT.top + PLOT_H + 14}">${xMin}</text>`,
    `<text x="${PLOT.left + PLOT_W}" y="${PLOT.top + PLOT_H + 14}" text-anchor="end">${xMax}</text>`,
    `<text x="${PLOT.left + PLOT_W / 2}" y="${PLOT.height - 12}" font-size="11" text-anchor="middle">epoch</text>`,
    `</g>`,
    `<text x="14" y="${PLOT.top + PLOT_H / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${PLOT.top + PLOT_H / 2})">valid ${escapeXml(metric)}</text>`,
  ];
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.value));
    if (pts.length === 0) continue;
    body.push(
      `<polyline class="series" data-label="${escapeXml(s.label)}" data-group="${escapeXml(s.group)}" ` +
        `data-epochs="${pts.map((p) => p.epoch).join(' ')}" data-values="${pts.map((p) => p.value).join(' ')}" ` +
        `points="${pts.map((p) => `${num(sx(p.epoch))},${num(sy(p.value))}`).join(' ')}" fill="none" stroke="${colour(s.group)}" stroke-width="1.5" stroke-opacity="0.85"/>`,
    );
  }
  groups.forEach((group, i) => {
    const y = PLOT.top + 12 + i * 18;
    const x = PLOT.left + PLOT_W + 14;
    body.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 18}" y2="${y - 4}" stroke="${colour(group)}" stroke-width="2"/>`,
    );
    body.push(`<text class="legend" x="${x + 24}" y="${y}" font-size="11">${escapeXml(group)}</text>`);
  });
  return frame(title, body);
}

export interface Bar {
  label: string;
  /** Relative gain as a fraction (0.05 = +5 %). */
  value: number;
  significant: boolean;
}

/** Relative gains as bars around a zero line (up = better than the baseline); `*` marks significant ones. */
export function gainsBarSvg(title: string, bars: readonly Bar[]): string {
  if (bars.length === 0)
    return frame(title, [`<text x="${BARS.left + 8}" y="${BARS.top + 20}" font-size="12">no comparisons</text>`], BARS);
  const percents = bars.map((b) => b.value * 100);
  // Headroom above and below the bars for their value labels.
  const span = Math.max(...percents, 0) - Math.min(...percents, 0) || 1;
  const lo = Math.min(0, ...percents) - (Math.min(...percents) < 0 ? 0.15 * span : 0);
  const hi = Math.max(0, ...percents) + (Math.max(...percents) > 0 ? 0.15 * span : 0);
  const sy = linearScale(lo, hi, BARS.top + innerHeight(BARS), BARS.top);
  const zero = sy(0);
  const slot = innerWidth(BARS) / bars.length;
  const width = Math.max(2, slot * 0.6);
  const body = [
    `<g class="y-axis" data-min="${lo}" data-max="${hi}" font-size="10" text-anchor="end">`,
    `<text x="${BARS.left - 6}" y="${BARS.top + 4}">${tick(hi)} %</text>`,
    `<text x="${BARS.left - 6}" y="${BARS.top + innerHeight(BARS)}">${tick(lo)} %</text>`,
    `</g>`,
    `<line class="zero" x1="${BARS.left}" y1="${num(zero)}" x2="${BARS.left + innerWidth(BARS)}" y2="${num(zero)}" stroke="#444"/>`,
  ];
  bars.forEach((bar, i) => {
    const pct = percents[i]!;
    const top = Math.min(sy(pct), zero);
    const height = Math.abs(sy(pct) - zero);
    const x = BARS.left + i * slot + (slot - width) / 2;
    const colour = pct >= 0 ? '#2ca02c' : '#d62728';
    body.push(
      `<rect class="bar" data-label="${escapeXml(bar.label)}" data-value="${bar.value}" data-significant="${bar.significant}" ` +
        `x="${num(x)}" y="${num(top)}" width="${num(width)}" height="${num(height)}" fill="${colour}" fill-opacity="${bar.significant ? 1 : 0.45}"/>`,
    );
    const labelY = pct >= 0 ? top - 4 : top + height + 12;
    body.push(
      `<text x="${num(x + width / 2)}" y="${num(labelY)}" font-size="10" text-anchor="middle">${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%${bar.significant ? '*' : ''}</text>`,
    );
    const lx = x + width / 2;
    const ly = BARS.top + innerHeight(BARS) + 12;
    body.push(
      `<text x="${num(lx)}" y="${ly}" font-size="9" text-anchor="end" transform="rotate(-30 ${num(lx)} ${ly})">${escapeXml(bar.label)}</text>`,
    );
  });
  body.push(
    `<text x="${BARS.left + innerWidth(BARS) + 10}" y="${BARS.top + 12}" font-size="10">* p &lt; alpha (paired t-test)</text>`,
  );
  body.push(
    `<text x="${BARS.left + innerWidth(BARS) + 10}" y="${BARS.top + 26}" font-size="10">pale: not significant</text>`,
  );
  return frame(title, body, BARS);
}
