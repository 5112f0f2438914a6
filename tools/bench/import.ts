// `npm run bench -- import [--rows 2000000,8000000,20000000] [--keep]`: the peak RSS of the real
// `sgfd data import mmrec` on generated `.inter` files of growing size (data-inter.ts: 20 rows per user,
// no split column, no features), each import in a fresh child process. Baseline, in the same run: the same
// command on a 20,000-row file (the runtime's own RSS). The output arrays are the interaction columns the
// import must hold (21 bytes a row); bounded memory means that peak RSS - baseline - output arrays, the
// import's overhead, does not grow with the rows.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BYTES_PER_ROW, writeLargeInter } from './data-inter';

const HERE = dirname(fileURLToPath(import.meta.url));
const SGFD = join(HERE, '..', '..', 'apps', 'cli', 'bin', 'sgfd.mjs');
const RSS_AT_EXIT = join(HERE, 'rss-at-exit.mjs');
const BASELINE_ROWS = 20_000;

interface Measured {
  rows: number;
  fileBytes: number;
  seconds: number;
  peakRssBytes: number;
}

/** Runs `sgfd data import mmrec <folder>` in a child and returns its peak RSS (reported at exit). */
async function importInChild(folder: string, out: string, rssFile: string): Promise<{ seconds: number; rss: number }> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', RSS_AT_EXIT, SGFD, 'data', 'import', 'mmrec', folder, '--out', out, '--json'],
      { env: { ...process.env, SGFD_BENCH_RSS_FILE: rssFile }, maxBuffer: 1 << 20 },
      (error, _stdout, stderr) => (error ? reject(new Error(`import of ${folder} failed: ${stderr}`)) : resolve()),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, rss: Number(await readFile(rssFile, 'utf8')) };
}

async function measure(work: string, rows: number): Promise<Measured> {
  const folder = join(work, `inter-${rows}`);
  const { bytes } = await writeLargeInter(folder, rows);
  try {
    const { seconds, rss } = await importInChild(folder, join(work, `snapshots-${rows}`), join(work, 'rss'));
    return { rows, fileBytes: bytes, seconds, peakRssBytes: rss };
  } finally {
    await rm(folder, { recursive: true, force: true });
    await rm(join(work, `snapshots-${rows}`), { recursive: true, force: true });
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--rows');
  const sizes = (at >= 0 ? args[at + 1] : '2000000,8000000,20000000').split(',').map(Number);
  const work = await mkdtemp(join(tmpdir(), 'sgfd-bench-import-'));
  try {
    const baseline = await measure(work, BASELINE_ROWS);
    console.log(`baseline: import of ${BASELINE_ROWS} rows peaks at ${mb(baseline.peakRssBytes)}`);
    const table = [
      [
        'rows',
        'file',
        'seconds',
        'peak RSS',
        'output arrays',
        'peak - baseline - output',
        'overhead bytes / row',
        '(peak - baseline) / output',
      ],
    ];
    for (const rows of sizes) {
      const m = await measure(work, rows);
      const output = rows * BYTES_PER_ROW;
      const overhead = m.peakRssBytes - baseline.peakRssBytes - output;
      table.push([
        String(rows),
        mb(m.fileBytes),
        m.seconds.toFixed(1),
        mb(m.peakRssBytes),
        mb(output),
        mb(overhead),
        (overhead / rows).toFixed(1),
        ((m.peakRssBytes - baseline.peakRssBytes) / output).toFixed(2),
      ]);
      console.log(`${rows} rows: ${m.seconds.toFixed(1)} s, peak RSS ${mb(m.peakRssBytes)}`);
    }
    const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
    console.log(table.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n'));
  } finally {
    if (!args.includes('--keep')) await rm(work, { recursive: true, force: true });
  }
}
