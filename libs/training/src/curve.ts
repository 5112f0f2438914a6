import type { EpochRecord } from './progress';

export interface CurveRow extends EpochRecord {
  stage: string;
}

/** One line per epoch: stage, epoch, seconds, every loss part, every validation metric (blank when not evaluated). */
export function curveCsv(rows: CurveRow[]): string {
  const lossKeys = [...new Set(rows.flatMap((r) => Object.keys(r.loss)))];
  const validKeys = [...new Set(rows.flatMap((r) => Object.keys(r.valid ?? {})))].sort();
  const header = [
    'stage',
    'epoch',
    'seconds',
    ...lossKeys.map((k) => `loss.${k}`),
    ...validKeys.map((k) => `valid.${k}`),
  ];
  const fmt = (v: number | undefined): string => (v === undefined ? '' : String(Number(v.toPrecision(6))));
  const lines = rows.map((r) =>
    [
      r.stage,
      String(r.epoch),
      fmt(r.seconds),
      ...lossKeys.map((k) => fmt(r.loss[k])),
      ...validKeys.map((k) => fmt(r.valid?.[k])),
    ].join(','),
  );
  return `${[header.join(','), ...lines].join('\n')}\n`;
}

interface Series {
  label: string;
  points: [number, number][];
}

const WIDTH = 360;
const HEIGHT = 220;
const PAD = { left: 52, right: 12, top: 28, bottom: 34 };

function panel(x0: number, title: string, series: Series, color: string): string {
  const pts = series.points.filter(([, y]) => Number.isFinite(y));
  if (pts.length === 0) return '';
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => y);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (yMax - yMin < 1e-12) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const sx = (x: number) => x0 + PAD.left + ((x - xMin) / (xMax - xMin)) * w;
  const sy = (y: number) => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * h;
  const path = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  const label = (v: number) => Number(v.toPrecision(3)).toString();
  return [
    `<text x="${x0 + PAD.left}" y="16" font-size="13" font-weight="bold">${title}</text>`,
    `<rect x="${x0 + PAD.left}" y="${PAD.top}" width="${w}" height="${h}" fill="none" stroke="#bbb"/>`,
    `<text x="${x0 + PAD.left - 4}" y="${PAD.top + 4}" font-size="10" text-anchor="end">${label(yMax)}</text>`,
    `<text x="${x0 + PAD.left - 4}" y="${PAD.top + h}" font-size="10" text-anchor="end">${label(yMin)}</text>`,
    `<text x="${x0 + PAD.left}" y="${HEIGHT - 18}" font-size="10">${xMin}</text>`,
    `<text x="${x0 + PAD.left + w}" y="${HEIGHT - 18}" font-size="10" text-anchor="end">${xMax}</text>`,
    `<text x="${x0 + PAD.left + w / 2}" y="${HEIGHT - 4}" font-size="11" text-anchor="middle">epoch</text>`,
    `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.6"/>`,
    `<text x="${x0 + PAD.left + w}" y="16" font-size="11" text-anchor="end" fill="${color}">${series.label}</text>`,
  ].join('\n');
}

/** Training loss and the validation metric per epoch, side by side, as a self-contained SVG. */
export function curveSvg(records: EpochRecord[], metric: string, title: string): string {
  const loss: Series = { label: 'loss (total)', points: records.map((r) => [r.epoch, r.loss['total']]) };
  const valid: Series = {
    label: `valid ${metric}`,
    points: records.filter((r) => r.valid && metric in r.valid).map((r) => [r.epoch, r.valid![metric]]),
  };
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * WIDTH}" height="${HEIGHT + 20}" font-family="sans-serif">`,
    `<title>${escape(title)}</title>`,
    `<g transform="translate(0,20)">`,
    panel(0, 'training loss', loss, '#1f77b4'),
    panel(WIDTH, 'validation', valid, '#d62728'),
    `</g>`,
    `<text x="8" y="14" font-size="12">${escape(title)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
