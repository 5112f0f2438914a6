// `npm run bench -- backbones [--preset office] [--epochs 4] [--only grcn,maml,...]` (also part of
// `npm run bench -- train`): every backbone trained by the real trainer on a synthetic preset, each in a
// fresh child process so that its peak memory is its own: build time (kNN item graphs included), epoch
// time (best of the epochs without validation), full-ranking evaluation of all users with validation
// items (item representations included), peak RSS and the wasm heap (peak tensor memory). Baseline: VBPR in the same
// run. Target on this machine: every backbone's epoch on office under 10 s.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, type BackboneName } from '@sgfd/contracts';
import { generateSynthetic, loadSnapshot, writeSnapshot, type SyntheticPresetName } from '@sgfd/data';
import { backboneData, createBackbone, disposeFeatures, featureTensors } from '@sgfd/models';
import { createRng, currentBackend, initBackend, tf } from '@sgfd/tensor';
import { evaluateBackbone, trainStudent } from '@sgfd/training';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const TARGET_EPOCH_SECONDS = 10;
export const BENCHED_BACKBONES: readonly BackboneName[] = ['vbpr', 'bm3', 'grcn', 'maml', 'lattice', 'freedom'];

interface Measured {
  backbone: string;
  buildSeconds: number;
  epochSeconds: number;
  evalSeconds: number;
  peakRssBytes: number;
  /** The wasm backend's heap, which only grows: its size at the end is the peak tensor memory. */
  wasmHeapBytes: number;
}

function wasmHeapBytes(): number {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.byteLength ?? 0;
}

/** Inside a child: build, train `epochs` epochs without validation, evaluate once. */
async function measure(backbone: BackboneName, snapshotDir: string, epochs: number): Promise<Measured> {
  await initBackend({ log: () => undefined });
  const dataset = await loadSnapshot(snapshotDir);
  const features = featureTensors(dataset);
  const t0 = performance.now();
  const model = createBackbone(backbone, { data: backboneData(dataset), features, params: {}, rng: createRng(1) });
  const buildSeconds = (performance.now() - t0) / 1000;
  let evalSeconds: number;
  try {
    const t1 = performance.now();
    evaluateBackbone(dataset, model, 'valid');
    evalSeconds = (performance.now() - t1) / 1000;
  } finally {
    model.dispose();
    disposeFeatures(features);
  }

  const config = RunConfigSchema.parse({ backbone, sgfd: { mode: 'off' }, training: { epochs, evalEvery: 1000, patience: 1000 } });
  const result = await trainStudent(dataset, config, null);
  // The last epoch validates (the loop always evaluates at its epoch limit); the others do not.
  const epochSeconds = Math.min(...result.history.slice(0, -1).map((h) => h.seconds));
  return { backbone, buildSeconds, epochSeconds, evalSeconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, wasmHeapBytes: wasmHeapBytes() };
}

function child(backbone: string, snapshotDir: string, epochs: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, 'backbones', '--child', backbone, snapshotDir, String(epochs)], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${backbone} failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Measured);
    });
  });
}

const fmt = (x: number, digits = 3) => Number(x.toPrecision(digits)).toString();
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)}`;

/** Measures `backbones` on the snapshot in `snapshotDir` and prints the table (VBPR first, as the baseline). */
export async function reportBackbones(snapshotDir: string, backbones: readonly string[], epochs: number): Promise<void> {
  const order = ['vbpr', ...backbones.filter((b) => b !== 'vbpr')];
  const rows: Measured[] = [];
  for (const backbone of order) {
    rows.push(await child(backbone, snapshotDir, epochs));
    const r = rows[rows.length - 1];
    console.error(`  measured ${backbone}: epoch ${fmt(r.epochSeconds)} s, evaluation ${fmt(r.evalSeconds)} s`);
  }
  const vbpr = rows[0];
  console.log(`\nevery backbone, one child process each (batch 2048; epoch: best of ${epochs - 1} without validation; evaluation: all users with validation items)`);
  console.log('| backbone | build s | epoch s | x vbpr epoch | evaluation s | x vbpr evaluation | peak RSS MB | wasm heap MB | epoch < 10 s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(
      `| ${r.backbone} | ${fmt(r.buildSeconds)} | ${fmt(r.epochSeconds)} | ${fmt(r.epochSeconds / vbpr.epochSeconds)} | ${fmt(r.evalSeconds)} | ${fmt(r.evalSeconds / vbpr.evalSeconds)} | ` +
        `${mb(r.peakRssBytes)} | ${r.wasmHeapBytes ? mb(r.wasmHeapBytes) : 'n/a'} | ${r.epochSeconds < TARGET_EPOCH_SECONDS ? 'met' : 'NOT met'} |`,
    );
  }
}

function parseArgs(args: string[]): { preset: SyntheticPresetName; epochs: number; only: string[] } {
  const options = { preset: 'office' as SyntheticPresetName, epochs: 4, only: [...BENCHED_BACKBONES] as string[] };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--preset') options.preset = args[++i] as SyntheticPresetName;
    else if (args[i] === '--epochs') options.epochs = Math.max(2, Number(args[++i]));
    else if (args[i] === '--only') options.only = args[++i].split(',');
    else throw new Error(`unknown argument ${args[i]} (expected --preset NAME, --epochs N, --only ${BENCHED_BACKBONES.join(',')})`);
  }
  return options;
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await measure(args[1] as BackboneName, args[2], Number(args[3])))}\n`);
    return;
  }
  const options = parseArgs(args);
  await initBackend();
  const root = await mkdtemp(join(tmpdir(), 'sgfd-bench-backbones-'));
  try {
    const { dir } = await writeSnapshot(generateSynthetic({ preset: options.preset, seed: 1 }), { root });
    const dataset = await loadSnapshot(dir);
    console.log(
      `dataset: synthetic '${options.preset}' ${dataset.nUsers} users x ${dataset.nItems} items, ${dataset.splits.train.users.length} training pairs, ` +
        `image ${dataset.features.image?.dim} + text ${dataset.features.text?.dim}; backend ${currentBackend()}`,
    );
    await reportBackbones(dir, options.only, options.epochs);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
