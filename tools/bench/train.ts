// `npm run bench -- train [--preset office] [--epochs 4] [--only vbpr,two-stage,joint,bm3,eval,backbones]`: epoch time and full-ranking evaluation time of
// VBPR, VBPR+SGFD (two-stage: teacher and student epochs; joint) and BM3 on a synthetic preset, and the
// same VBPR step in numpy (tools/bench/bpr_reference.py, same shapes and work per batch) in this run.
// Epoch figures are the best of the measured epochs (the minimum is the stable estimate on a shared
// machine); they exclude validation. Targets: a VBPR epoch within 2x of numpy; evaluating every office
// user under 2 s.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, type RunConfigInput } from '@sgfd/contracts';
import { generateSynthetic, loadSnapshot, writeSnapshot, type LoadedDataset, type SyntheticPresetName } from '@sgfd/data';
import { backboneData, createBackbone, disposeFeatures, featureTensors } from '@sgfd/models';
import { createRng, currentBackend, initBackend } from '@sgfd/tensor';
import { evaluateBackbone, pretrainTeacher, trainStudent, type EpochRecord, type TeacherOutputs } from '@sgfd/training';
import { BENCHED_BACKBONES, reportBackbones } from './backbones';

const REFERENCE = join(dirname(fileURLToPath(import.meta.url)), 'bpr_reference.py');
const TARGETS = { vbprOverNumpy: 2, evalSeconds: 2 };

// `backbones`: every backbone (epoch, evaluation, memory), one child process each (see backbones.ts).
const RUNS = ['vbpr', 'two-stage', 'joint', 'bm3', 'eval', 'backbones'] as const;

interface Options {
  preset: SyntheticPresetName;
  epochs: number;
  /** Which measurements to make (the VBPR epoch and the numpy reference always run). */
  only: Set<string>;
}

function parseArgs(args: string[]): Options {
  const options: Options = { preset: 'office', epochs: 4, only: new Set(RUNS) };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--preset') options.preset = args[++i] as SyntheticPresetName;
    else if (args[i] === '--epochs') options.epochs = Math.max(2, Number(args[++i]));
    else if (args[i] === '--only') options.only = new Set(args[++i].split(','));
    else throw new Error(`unknown argument ${args[i]} (expected --preset NAME, --epochs N, --only ${RUNS.join(',')})`);
  }
  return options;
}

/** Best epoch time in ms, over the epochs that ran no validation (the last one does). */
function bestEpochMs(history: EpochRecord[]): number {
  return Math.min(...history.slice(0, -1).map((h) => h.seconds * 1000));
}

function runConfig(input: RunConfigInput, epochs: number) {
  return RunConfigSchema.parse({
    ...input,
    training: { epochs, evalEvery: 1000, patience: 1000, ...input.training },
    sgfd: { ...input.sgfd, teacher: { epochs, patience: 1000, ...input.sgfd?.teacher } },
  });
}

type Reference = { epochMs: number; stepMs: number; numpy: string } | string;

function numpyReference(dataset: LoadedDataset, batch: number, env: Record<string, string> = {}): Promise<Reference> {
  const args = [
    REFERENCE,
    '--users', String(dataset.nUsers),
    '--items', String(dataset.nItems),
    '--train', String(dataset.splits.train.users.length),
    '--image-dim', String(dataset.features.image?.dim ?? 0),
    '--text-dim', String(dataset.features.text?.dim ?? 0),
    '--batch', String(batch),
  ];
  return new Promise((resolve) => {
    execFile('python3', args, { maxBuffer: 1 << 20, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) resolve(stderr.trim() || `python3 failed: ${error.message}`);
      else resolve(JSON.parse(stdout) as { epochMs: number; stepMs: number; numpy: string });
    });
  });
}

function evalSeconds(dataset: LoadedDataset, backbone: string): number {
  const features = featureTensors(dataset);
  const model = createBackbone(backbone, { data: backboneData(dataset), features, params: {}, rng: createRng(1) });
  let best = Infinity;
  try {
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      evaluateBackbone(dataset, model, 'valid');
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
  } finally {
    model.dispose();
    disposeFeatures(features);
  }
  return best;
}

const fmt = (x: number, digits = 3) => Number(x.toPrecision(digits)).toString();

export async function run(args: string[]): Promise<void> {
  const options = parseArgs(args);
  await initBackend();
  const root = await mkdtemp(join(tmpdir(), 'sgfd-bench-train-'));
  try {
    const t0 = performance.now();
    const { dir } = await writeSnapshot(generateSynthetic({ preset: options.preset, seed: 1 }), { root });
    const dataset = await loadSnapshot(dir);
    const batch = 2048;
    console.log(
      `dataset: synthetic '${options.preset}' ${dataset.nUsers} users x ${dataset.nItems} items, ${dataset.splits.train.users.length} training pairs, ` +
        `image ${dataset.features.image?.dim} + text ${dataset.features.text?.dim}; backend ${currentBackend()}; made in ${fmt((performance.now() - t0) / 1000)} s`,
    );

    // The reference runs before and after the VBPR measurement (best of both), and once on one BLAS
    // thread: the wasm backend computes on one core.
    const references: Reference[] = [await numpyReference(dataset, batch)];
    const describe = (r: Reference) => (typeof r === 'string' ? r : `${fmt(r.epochMs)} ms per epoch`);
    console.error(`  numpy reference: ${describe(references[0])}`);
    const rows: [string, number][] = [];
    const progress = (label: string, ms: number) => console.error(`  measured ${label}: ${fmt(ms)} ms per epoch`);
    const train = async (label: string, input: RunConfigInput, teacher: TeacherOutputs | null = null, epochs = options.epochs) => {
      const result = await trainStudent(dataset, runConfig(input, epochs), teacher);
      rows.push([label, bestEpochMs(result.history)]);
      progress(label, rows[rows.length - 1][1]);
    };
    await train('vbpr', { backbone: 'vbpr', sgfd: { mode: 'off' } });
    references.push(await numpyReference(dataset, batch));
    const singleThread = await numpyReference(dataset, batch, { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' });
    console.error(`  numpy reference again: ${describe(references[1])}; on one BLAS thread: ${describe(singleThread)}`);
    if (options.only.has('two-stage')) {
      let teacherEpochMs = Infinity;
      let last = 0;
      const teacher = await pretrainTeacher(dataset, runConfig({ backbone: 'vbpr', sgfd: { mode: 'two-stage' } }, options.epochs), {
        onProgress: (e) => {
          if (e.type !== 'epoch') return;
          teacherEpochMs = Math.min(teacherEpochMs, e.elapsedMs - last);
          last = e.elapsedMs;
        },
      });
      rows.push(['sgfd teacher (two-stage, step 1)', teacherEpochMs]);
      progress('teacher', teacherEpochMs);
      await train('vbpr + sgfd two-stage (student)', { backbone: 'vbpr', sgfd: { mode: 'two-stage' } }, teacher);
    }
    // Joint runs the 4096 -> 1024 teacher tower in every step: two epochs (one measured) are enough.
    if (options.only.has('joint')) await train('vbpr + sgfd joint', { backbone: 'vbpr', sgfd: { mode: 'joint' } }, null, 2);
    if (options.only.has('bm3')) await train('bm3', { backbone: 'bm3', sgfd: { mode: 'off' } });

    const vbpr = rows[0][1];
    console.log(`\nepoch time (batch ${batch}, best of ${options.epochs - 1} epochs without validation; joint: 1 epoch)`);
    console.log('| run | epoch ms | x vbpr | x numpy vbpr |');
    console.log('|---|---:|---:|---:|');
    const measured = references.filter((r): r is Exclude<Reference, string> => typeof r !== 'string');
    const numpyMs = measured.length ? Math.min(...measured.map((r) => r.epochMs)) : null;
    if (numpyMs !== null) {
      console.log(`| numpy reference VBPR (numpy ${measured[0].numpy}, OpenBLAS default threads) | ${fmt(numpyMs)} | ${fmt(numpyMs / vbpr)} | 1 |`);
      if (typeof singleThread !== 'string') {
        console.log(`| numpy reference VBPR, one BLAS thread | ${fmt(singleThread.epochMs)} | ${fmt(singleThread.epochMs / vbpr)} | ${fmt(singleThread.epochMs / numpyMs)} |`);
      }
    }
    for (const [label, ms] of rows) console.log(`| ${label} | ${fmt(ms)} | ${fmt(ms / vbpr)} | ${numpyMs === null ? 'n/a' : fmt(ms / numpyMs)} |`);
    if (numpyMs === null) console.log(`\nnotice: numpy reference skipped: ${references[0] as string}`);
    else {
      const ratio = vbpr / numpyMs;
      console.log(`\nVBPR epoch / numpy epoch = ${fmt(ratio)} (target <= ${TARGETS.vbprOverNumpy}): ${ratio <= TARGETS.vbprOverNumpy ? 'met' : 'NOT met'}`);
      if (typeof singleThread !== 'string') console.log(`VBPR epoch / numpy epoch on one BLAS thread = ${fmt(vbpr / singleThread.epochMs)}`);
    }

    if (options.only.has('backbones')) await reportBackbones(dir, BENCHED_BACKBONES, options.epochs);
    if (!options.only.has('eval')) return;
    console.log(`\nfull-ranking evaluation of all ${dataset.nUsers} users with validation items (best of 3; item representations included)`);
    for (const backbone of ['vbpr', 'bm3']) {
      const seconds = evalSeconds(dataset, backbone);
      console.log(`${backbone}: ${fmt(seconds)} s (target < ${TARGETS.evalSeconds} s: ${seconds < TARGETS.evalSeconds ? 'met' : 'NOT met'}), ${fmt(seconds / (vbpr / 1000))} x a VBPR epoch`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
