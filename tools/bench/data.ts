// `npm run bench -- data [--keep] [--inter-rows N] [--full-import] [--skip-large-inter]`: import of a
// baby-size MMRec folder (7,050 items x 4096 float32 image + 384-d text features, ~160k interactions) and
// load of the resulting snapshot into typed arrays; then the streaming .inter reader on a large generated
// file (data-inter.ts).
// Each measured step runs in a fresh child process so its peak RSS is its own; the baseline is the same
// kind of child reading the raw .npy bytes (fs.readFile), and an idle child shows the runtime's own RSS.
// Targets on this machine: import <= 10 s, load <= 2 s, peak RSS <= 3x the feature bytes.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// A benchmark measures a lib from outside it; tools is tagged type:util only for the libs' sake.
import { exportMmrec, generateSynthetic, importMmrec, loadSnapshot } from '@sgfd/data';
import { BYTES_PER_ROW, interPhase, writeGarbageInter, writeLargeInter } from './data-inter';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const TARGETS = { importSeconds: 10, loadSeconds: 2, rssOverFeatureBytes: 3 };

interface Measured {
  seconds: number;
  peakRssBytes: number;
  detail: string;
  /** The snapshot directory, for the import step. */
  dir?: string;
}

/** One measured step inside a child process. */
async function step(phase: string, args: string[]): Promise<Measured> {
  const started = performance.now();
  let detail = '';
  let dir: string | undefined;
  if (phase === 'idle') {
    // Only the modules the other steps load.
  } else if (phase === 'raw-read') {
    let bytes = 0;
    for (const file of ['image_feat.npy', 'text_feat.npy']) bytes += (await readFile(join(args[0], file))).byteLength;
    detail = `${bytes} bytes`;
  } else if (phase === 'import') {
    const result = await importMmrec({ dir: args[0], root: args[1] });
    detail = `${result.created ? 'created' : 'found existing'} snapshot ${result.id.slice(0, 12)}`;
    dir = result.dir;
  } else if (phase === 'load') {
    const data = await loadSnapshot(args[0]);
    detail = `${data.nUsers} users, ${data.nItems} items, ${data.splits.train.users.length} train pairs, image ${data.features.image?.dim}-d, text ${data.features.text?.dim}-d`;
  } else detail = await interPhase(phase, args);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, detail, dir };
}

function child(phase: string, args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, 'data', '--phase', phase, ...args],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${phase} failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Measured);
      },
    );
  });
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--phase') {
    process.stdout.write(`${JSON.stringify(await step(args[1], args.slice(2)))}\n`);
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'sgfd-bench-data-'));
  try {
    const genStart = performance.now();
    const dataset = generateSynthetic({ preset: 'baby', seed: 1 });
    const folder = (await exportMmrec(dataset, { out: join(work, 'baby') })).dir;
    const nInteractions = dataset.interactions.users.length;
    const featureBytes = dataset.features.image!.data.byteLength + dataset.features.text!.data.byteLength;
    console.log(
      `prepared ${folder}: ${dataset.nUsers} users, ${dataset.nItems} items, ${nInteractions} interactions, features ${mb(featureBytes)} float32 (${((performance.now() - genStart) / 1000).toFixed(1)} s, not timed)`,
    );

    const idle = await child('idle', []);
    const raw = await child('raw-read', [folder]);
    const imported = await child('import', [folder, join(work, 'snapshots')]);
    const loaded = await child('load', [imported.dir!]);
    const reimport = await child('import', [folder, join(work, 'snapshots')]);
    const snapshotBytes = await dirBytes(imported.dir!);

    const rows = [
      ['step', 'seconds', 'x raw read', 'peak RSS', 'RSS / feature bytes', 'target', 'detail'],
      [
        'idle runtime',
        idle.seconds.toFixed(2),
        '',
        mb(idle.peakRssBytes),
        (idle.peakRssBytes / featureBytes).toFixed(2),
        '',
        'tsx + @sgfd/data loaded',
      ],
      [
        'raw .npy read (baseline)',
        raw.seconds.toFixed(2),
        '1.0',
        mb(raw.peakRssBytes),
        (raw.peakRssBytes / featureBytes).toFixed(2),
        '',
        raw.detail,
      ],
      [
        'import MMRec -> snapshot',
        imported.seconds.toFixed(2),
        (imported.seconds / raw.seconds).toFixed(1),
        mb(imported.peakRssBytes),
        (imported.peakRssBytes / featureBytes).toFixed(2),
        `<= ${TARGETS.importSeconds} s, <= ${TARGETS.rssOverFeatureBytes}x`,
        imported.detail,
      ],
      [
        'load snapshot',
        loaded.seconds.toFixed(2),
        (loaded.seconds / raw.seconds).toFixed(1),
        mb(loaded.peakRssBytes),
        (loaded.peakRssBytes / featureBytes).toFixed(2),
        `<= ${TARGETS.loadSeconds} s, <= ${TARGETS.rssOverFeatureBytes}x`,
        loaded.detail,
      ],
      [
        're-import (same data)',
        reimport.seconds.toFixed(2),
        (reimport.seconds / raw.seconds).toFixed(1),
        mb(reimport.peakRssBytes),
        (reimport.peakRssBytes / featureBytes).toFixed(2),
        '',
        reimport.detail,
      ],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    console.log(rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n'));
    console.log(`snapshot on disk: ${mb(snapshotBytes)} (features ${mb(featureBytes)})`);
    const ok =
      imported.seconds <= TARGETS.importSeconds &&
      loaded.seconds <= TARGETS.loadSeconds &&
      Math.max(imported.peakRssBytes, loaded.peakRssBytes) <= TARGETS.rssOverFeatureBytes * featureBytes;
    console.log(ok ? 'all targets met' : 'TARGET MISSED');
    if (!ok) process.exitCode = 1;
    if (!args.includes('--skip-large-inter'))
      await largeInter(work, idle, optionValue(args, '--inter-rows') ?? 25_000_000, args.includes('--full-import'));
  } finally {
    if (!args.includes('--keep')) await rm(work, { recursive: true, force: true });
  }
}

function optionValue(args: string[], name: string): number | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : undefined;
}

/** The streaming .inter reader: peak RSS beyond the runtime and the output arrays, at two file sizes. */
async function largeInter(work: string, idle: Measured, rows: number, fullImport: boolean): Promise<void> {
  const genStart = performance.now();
  const quarter = await writeLargeInter(join(work, 'quarter'), Math.floor(rows / 4));
  const full = await writeLargeInter(join(work, 'large'), rows);
  const garbage = await writeGarbageInter(join(work, 'large'));
  console.log(
    `\nprepared .inter files of ${Math.floor(rows / 4)} and ${rows} rows (${mb(quarter.bytes)}, ${mb(full.bytes)}) and ${mb(garbage.bytes)} of garbage (${((performance.now() - genStart) / 1000).toFixed(1)} s, not timed)`,
  );
  const table = [
    ['step', 'file', 'seconds', 'peak RSS', 'output arrays', 'RSS - idle - output', 'RSS / file size', 'detail'],
  ];
  const measure = async (
    name: string,
    phase: string,
    args: string[],
    file: { bytes: number },
    outputBytes: number,
  ): Promise<void> => {
    const m = await child(phase, args);
    table.push([
      name,
      mb(file.bytes),
      m.seconds.toFixed(1),
      mb(m.peakRssBytes),
      mb(outputBytes),
      mb(m.peakRssBytes - idle.peakRssBytes - outputBytes),
      (m.peakRssBytes / file.bytes).toFixed(2),
      m.detail,
    ]);
  };
  await measure(
    `read .inter, ${Math.floor(rows / 4)} rows`,
    'read-inter',
    [quarter.path],
    quarter,
    Math.floor(rows / 4) * BYTES_PER_ROW,
  );
  await measure(`read .inter, ${rows} rows`, 'read-inter', [full.path], full, rows * BYTES_PER_ROW);
  await measure('garbage .inter, bad at row 2', 'fail-inter', [garbage.path], garbage, 0);
  if (fullImport) {
    await rm(garbage.path);
    await measure(
      `import MMRec -> snapshot, ${rows} rows`,
      'import-inter',
      [join(work, 'large'), join(work, 'large-snapshots')],
      full,
      rows * BYTES_PER_ROW,
    );
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  console.log(table.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n'));
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}
