// `npm run bench -- backbones [--preset office] [--epochs 4] [--rounds 2] [--only grcn,maml,...]` (also part
// of `npm run bench -- train`): every backbone trained by the real trainer on a synthetic preset, each in a
// fresh child process so that its peak memory is its own: build time (kNN item graphs included), epoch
// time (best of the epochs without validation), full-ranking evaluation of all users with validation
// items (item representations included; best of EVALUATIONS) and peak RSS, on the native TensorFlow engine
// and on wasm, the engines alternated for `rounds` rounds per backbone; times are the best over the rounds,
// peak RSS the highest. Baselines in the same run: wasm for each backbone, VBPR across backbones.
// Targets (native, office): every epoch at least 2.5x faster than on wasm, MAML's evaluation at most 5 s,
// peak RSS at most 1.5x the wasm run's.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, type BackboneName } from '@sgfd/contracts';
import { generateSynthetic, loadSnapshot, writeSnapshot, type SyntheticPresetName } from '@sgfd/data';
import { backboneData, createBackbone, disposeFeatures, featureTensors, registeredBackbones } from '@sgfd/models';
import { createRng, currentBackend, initBackend } from '@sgfd/tensor';
import { evaluateBackbone, trainStudent } from '@sgfd/training';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const TARGETS = { epochSpeedup: 2.5, mamlEvalSeconds: 5, rssOverWasm: 1.5 };
const ENGINES = ['tensorflow', 'wasm'] as const;
/** Evaluations timed per child (the best is reported): epoch times on this kind of machine move by 10-25 %. */
const EVALUATIONS = 2;
/** Every registered backbone: a new one is benched without touching this file. */
export const BENCHED_BACKBONES: readonly BackboneName[] = registeredBackbones();

interface Measured {
  backbone: string;
  backend: string;
  buildSeconds: number;
  epochSeconds: number;
  /** Best of EVALUATIONS evaluations, as the train bench's; the first (cold) one as well. */
  evalSeconds: number;
  firstEvalSeconds: number;
  peakRssBytes: number;
}

/** Inside a child: build, train `epochs` epochs without validation, evaluate once. */
async function measure(backbone: BackboneName, snapshotDir: string, epochs: number): Promise<Measured> {
  await initBackend({ log: () => undefined });
  const dataset = await loadSnapshot(snapshotDir);
  const features = featureTensors(dataset);
  const t0 = performance.now();
  const model = createBackbone(backbone, { data: backboneData(dataset), features, params: {}, rng: createRng(1) });
  const buildSeconds = (performance.now() - t0) / 1000;
  const evalTimes: number[] = [];
  try {
    for (let i = 0; i < EVALUATIONS; i++) {
      const t1 = performance.now();
      evaluateBackbone(dataset, model, 'valid');
      evalTimes.push((performance.now() - t1) / 1000);
    }
  } finally {
    model.dispose();
    disposeFeatures(features);
  }

  const config = RunConfigSchema.parse({
    backbone,
    sgfd: { mode: 'off' },
    training: { epochs, evalEvery: 1000, patience: 1000 },
  });
  const result = await trainStudent(dataset, config, null);
  // The last epoch validates (the loop always evaluates at its epoch limit); the others do not.
  const epochSeconds = Math.min(...result.history.slice(0, -1).map((h) => h.seconds));
  return {
    backbone,
    backend: currentBackend(),
    buildSeconds,
    epochSeconds,
    evalSeconds: Math.min(...evalTimes),
    firstEvalSeconds: evalTimes[0],
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/** One engine's figures over the rounds: times the best (lowest), peak RSS the highest, the first evaluation the first round's. */
function bestOf(rounds: Measured[]): Measured {
  const least = (pick: (m: Measured) => number) => Math.min(...rounds.map(pick));
  return {
    ...rounds[0],
    buildSeconds: least((m) => m.buildSeconds),
    epochSeconds: least((m) => m.epochSeconds),
    evalSeconds: least((m) => m.evalSeconds),
    peakRssBytes: Math.max(...rounds.map((m) => m.peakRssBytes)),
  };
}

function child(backbone: string, engine: string, snapshotDir: string, epochs: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SGFD_BACKEND: engine };
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, 'backbones', '--child', backbone, snapshotDir, String(epochs)],
      { maxBuffer: 1 << 20, env },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${backbone} on ${engine} failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Measured);
      },
    );
  });
}

const fmt = (x: number, digits = 3) => Number(x.toPrecision(digits)).toString();
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)}`;

/** Measures `backbones` on the snapshot in `snapshotDir` on both engines and prints the tables (VBPR first, as the baseline). */
export async function reportBackbones(
  snapshotDir: string,
  backbones: readonly string[],
  epochs: number,
  rounds: number,
): Promise<void> {
  const order = ['vbpr', ...backbones.filter((b) => b !== 'vbpr')];
  const rows: Array<{ native: Measured; wasm: Measured }> = [];
  for (const backbone of order) {
    const measured: Measured[][] = [[], []];
    for (let round = 0; round < rounds; round++)
      for (const [e, engine] of ENGINES.entries()) measured[e].push(await child(backbone, engine, snapshotDir, epochs));
    const [native, wasm] = measured.map(bestOf);
    rows.push({ native, wasm });
    console.error(
      `  measured ${backbone}: epoch ${fmt(native.epochSeconds)} s (${native.backend}) vs ${fmt(wasm.epochSeconds)} s (${wasm.backend})`,
    );
  }
  const engines = `${rows[0].native.backend} / ${rows[0].wasm.backend}`;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(
    `\nevery backbone, one child process per backbone, engine and round (batch 2048; ${rounds} alternated rounds; epoch: best of ${epochs - 1} without validation per round; evaluation: all users with validation items, best of ${EVALUATIONS} per round; peak RSS: the highest round)`,
  );
  console.log(
    `| backbone | build s (${engines}) | epoch s (${engines}) | epoch speed-up (>= ${TARGETS.epochSpeedup}) | x vbpr epoch | evaluation s (${engines}) | peak RSS MB (${engines}) | RSS ratio (<= ${TARGETS.rssOverWasm}) |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const vbpr = rows[0].native;
  for (const { native: n, wasm: w } of rows) {
    const speedup = w.epochSeconds / n.epochSeconds;
    const rss = n.peakRssBytes / w.peakRssBytes;
    console.log(
      `| ${n.backbone} | ${fmt(n.buildSeconds)} / ${fmt(w.buildSeconds)} | ${fmt(n.epochSeconds)} / ${fmt(w.epochSeconds)} | ${fmt(speedup)} ${verdict(speedup >= TARGETS.epochSpeedup)} | ` +
        `${fmt(n.epochSeconds / vbpr.epochSeconds)} | ${fmt(n.evalSeconds)} / ${fmt(w.evalSeconds)} | ${mb(n.peakRssBytes)} / ${mb(w.peakRssBytes)} | ${fmt(rss)} ${verdict(rss <= TARGETS.rssOverWasm)} |`,
    );
  }
  const maml = rows.find((r) => r.native.backbone === 'maml');
  if (maml)
    console.log(
      `\nMAML full-ranking evaluation on ${maml.native.backend}: ${fmt(maml.native.evalSeconds)} s, best of ${EVALUATIONS} x ${rounds} rounds (the first: ${fmt(maml.native.firstEvalSeconds)} s) (target <= ${TARGETS.mamlEvalSeconds} s): ${verdict(maml.native.evalSeconds <= TARGETS.mamlEvalSeconds)}`,
    );
}

function parseArgs(args: string[]): { preset: SyntheticPresetName; epochs: number; rounds: number; only: string[] } {
  const options = {
    preset: 'office' as SyntheticPresetName,
    epochs: 4,
    rounds: 2,
    only: [...BENCHED_BACKBONES] as string[],
  };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--preset') options.preset = args[++i] as SyntheticPresetName;
    else if (args[i] === '--epochs') options.epochs = Math.max(2, Number(args[++i]));
    else if (args[i] === '--rounds') options.rounds = Math.max(1, Number(args[++i]));
    else if (args[i] === '--only') options.only = args[++i].split(',');
    else
      throw new Error(
        `unknown argument ${args[i]} (expected --preset NAME, --epochs N, --rounds N, --only ${BENCHED_BACKBONES.join(',')})`,
      );
  }
  return options;
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await measure(args[1] as BackboneName, args[2], Number(args[3])))}\n`);
    return;
  }
  const options = parseArgs(args);
  const root = await mkdtemp(join(tmpdir(), 'sgfd-bench-backbones-'));
  try {
    const { dir } = await writeSnapshot(generateSynthetic({ preset: options.preset, seed: 1 }), { root });
    const dataset = await loadSnapshot(dir);
    console.log(
      `dataset: synthetic '${options.preset}' ${dataset.nUsers} users x ${dataset.nItems} items, ${dataset.splits.train.users.length} training pairs, ` +
        `image ${dataset.features.image?.dim} + text ${dataset.features.text?.dim}`,
    );
    await reportBackbones(dir, options.only, options.epochs, options.rounds);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
