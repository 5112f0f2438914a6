// `npm run bench -- train [--preset office] [--epochs 4] [--rounds 2] [--only vbpr,two-stage,joint,bm3,eval,backbones]`:
// epoch time and full-ranking evaluation time of VBPR, VBPR+SGFD (two-stage: teacher and student epochs;
// joint) and BM3 on a synthetic preset, on the native TensorFlow engine and on wasm (one child process
// each, so each has its own memory), and the same VBPR step in numpy (tools/bench/bpr_reference.py, same
// shapes and work per batch) in this run. The engines alternate for `rounds` rounds (tensorflow, wasm,
// tensorflow, wasm, ...) with the numpy reference between them, and every figure is its best over the
// epochs and rounds: the minimum is the stable estimate on a shared machine, and alternating keeps a slow
// phase of the host from falling on one engine only. Epoch figures exclude validation. Targets (native): a VBPR epoch at most 1.0x numpy's, the teacher
// epoch at least 5x faster than on wasm, a joint epoch at most 3x a VBPR epoch.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, type RunConfigInput } from '@sgfd/contracts';
import {
  generateSynthetic,
  loadSnapshot,
  writeSnapshot,
  type LoadedDataset,
  type SyntheticPresetName,
} from '@sgfd/data';
import { backboneData, createBackbone, disposeFeatures, featureTensors } from '@sgfd/models';
import { createRng, currentBackend, initBackend } from '@sgfd/tensor';
import { numpyPython } from './numpy-env';
import { evaluateBackbone, pretrainTeacher, trainStudent, type EpochRecord, type TeacherOutputs } from '@sgfd/training';
import { BENCHED_BACKBONES, reportBackbones } from './backbones';

const REFERENCE = join(dirname(fileURLToPath(import.meta.url)), 'bpr_reference.py');
const TARGETS = { vbprOverNumpy: 1, teacherSpeedup: 5, jointOverVbpr: 3 };
export const ENGINES = ['tensorflow', 'wasm'] as const;
const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');

// `backbones`: every backbone (epoch, evaluation, memory), one child process each (see backbones.ts).
const RUNS = ['vbpr', 'two-stage', 'joint', 'bm3', 'eval', 'backbones'] as const;

interface Options {
  preset: SyntheticPresetName;
  epochs: number;
  /** Rounds of the engines, alternated. */
  rounds: number;
  /** Which measurements to make (the VBPR epoch and the numpy reference always run). */
  only: Set<string>;
}

function parseArgs(args: string[]): Options {
  const options: Options = { preset: 'office', epochs: 4, rounds: 2, only: new Set(RUNS) };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--preset') options.preset = args[++i] as SyntheticPresetName;
    else if (args[i] === '--epochs') options.epochs = Math.max(2, Number(args[++i]));
    else if (args[i] === '--rounds') options.rounds = Math.max(1, Number(args[++i]));
    else if (args[i] === '--only') options.only = new Set(args[++i].split(','));
    else
      throw new Error(
        `unknown argument ${args[i]} (expected --preset NAME, --epochs N, --rounds N, --only ${RUNS.join(',')})`,
      );
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

function numpyReference(
  python: string,
  dataset: LoadedDataset,
  batch: number,
  env: Record<string, string> = {},
): Promise<Reference> {
  const args = [
    REFERENCE,
    '--users',
    String(dataset.nUsers),
    '--items',
    String(dataset.nItems),
    '--train',
    String(dataset.splits.train.users.length),
    '--image-dim',
    String(dataset.features.image?.dim ?? 0),
    '--text-dim',
    String(dataset.features.text?.dim ?? 0),
    '--batch',
    String(batch),
  ];
  return new Promise((resolve) => {
    execFile(python, args, { maxBuffer: 1 << 20, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
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

interface EngineResult {
  backend: string;
  /** [label, best epoch ms]; VBPR first. */
  rows: [string, number][];
  /** Full-ranking evaluation seconds by backbone. */
  evals: Record<string, number>;
}

/** Inside a child (SGFD_BACKEND set by the parent): every measurement of `options.only` on one engine. */
async function measureEngine(snapshotDir: string, options: Options): Promise<EngineResult> {
  await initBackend({ log: () => undefined });
  const dataset = await loadSnapshot(snapshotDir);
  const rows: [string, number][] = [];
  const progress = (label: string, ms: number) =>
    console.error(`  ${currentBackend()} ${label}: ${fmt(ms)} ms per epoch`);
  const train = async (
    label: string,
    input: RunConfigInput,
    teacher: TeacherOutputs | null = null,
    epochs = options.epochs,
  ) => {
    const result = await trainStudent(dataset, runConfig(input, epochs), teacher);
    rows.push([label, bestEpochMs(result.history)]);
    progress(label, rows[rows.length - 1][1]);
  };
  await train('vbpr', { backbone: 'vbpr', sgfd: { mode: 'off' } });
  if (options.only.has('two-stage')) {
    let teacherEpochMs = Infinity;
    let last = 0;
    const teacher = await pretrainTeacher(
      dataset,
      runConfig({ backbone: 'vbpr', sgfd: { mode: 'two-stage' } }, options.epochs),
      {
        onProgress: (e) => {
          if (e.type !== 'epoch') return;
          teacherEpochMs = Math.min(teacherEpochMs, e.elapsedMs - last);
          last = e.elapsedMs;
        },
      },
    );
    rows.push(['sgfd teacher (two-stage, step 1)', teacherEpochMs]);
    progress('teacher', teacherEpochMs);
    await train('vbpr + sgfd two-stage (student)', { backbone: 'vbpr', sgfd: { mode: 'two-stage' } }, teacher);
  }
  if (options.only.has('joint')) await train('vbpr + sgfd joint', { backbone: 'vbpr', sgfd: { mode: 'joint' } });
  if (options.only.has('bm3')) await train('bm3', { backbone: 'bm3', sgfd: { mode: 'off' } });
  const evals: Record<string, number> = {};
  if (options.only.has('eval'))
    for (const backbone of ['vbpr', 'bm3']) evals[backbone] = evalSeconds(dataset, backbone);
  return { backend: currentBackend(), rows, evals };
}

/** One engine's figures over several rounds: each the best (lowest) of the rounds. */
function bestOf(results: EngineResult[]): EngineResult {
  const [first] = results;
  return {
    backend: first.backend,
    rows: first.rows.map(([label], i) => [label, Math.min(...results.map((r) => r.rows[i][1]))]),
    evals: Object.fromEntries(Object.keys(first.evals).map((b) => [b, Math.min(...results.map((r) => r.evals[b]))])),
  };
}

function engineChild(engine: string, snapshotDir: string, args: string[]): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, 'train', '--child', snapshotDir, ...args],
      { maxBuffer: 1 << 20, env: { ...process.env, SGFD_BACKEND: engine } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${engine} run failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as EngineResult);
      },
    );
    child.stderr?.pipe(process.stderr);
  });
}

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await measureEngine(args[1], parseArgs(args.slice(2))))}\n`);
    return;
  }
  const options = parseArgs(args);
  const python = await numpyPython();
  const root = await mkdtemp(join(tmpdir(), 'sgfd-bench-train-'));
  try {
    const t0 = performance.now();
    const { dir } = await writeSnapshot(generateSynthetic({ preset: options.preset, seed: 1 }), { root });
    const dataset = await loadSnapshot(dir);
    const batch = 2048;
    console.log(
      `dataset: synthetic '${options.preset}' ${dataset.nUsers} users x ${dataset.nItems} items, ${dataset.splits.train.users.length} training pairs, ` +
        `image ${dataset.features.image?.dim} + text ${dataset.features.text?.dim}; made in ${fmt((performance.now() - t0) / 1000)} s`,
    );

    // The reference runs before, between and after the rounds (the best of all), and once on one BLAS thread.
    const reference = (env: Record<string, string> = {}) =>
      typeof python === 'string' ? numpyReference(python, dataset, batch, env) : Promise.resolve(python.notice);
    const references: Reference[] = [await reference()];
    const describe = (r: Reference) => (typeof r === 'string' ? r : `${fmt(r.epochMs)} ms per epoch`);
    console.error(`  numpy reference: ${describe(references[0])}`);
    const childArgs = ['--epochs', String(options.epochs), '--only', [...options.only].join(',')];
    const rounds: EngineResult[][] = [];
    for (let round = 0; round < options.rounds; round++) {
      const results: EngineResult[] = [];
      for (const engine of ENGINES) results.push(await engineChild(engine, dir, childArgs));
      rounds.push(results);
      references.push(await reference());
      console.error(`  numpy reference after round ${round + 1}: ${describe(references[references.length - 1])}`);
    }
    const singleThread = await reference({ OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' });
    console.error(`  numpy reference on one BLAS thread: ${describe(singleThread)}`);
    const [native, wasm] = ENGINES.map((_, e) => bestOf(rounds.map((r) => r[e])));
    if (native.backend === 'wasm') console.log('\nnotice: native TensorFlow did not load; both columns are wasm');

    const measured = references.filter((r): r is Exclude<Reference, string> => typeof r !== 'string');
    const numpyMs = measured.length ? Math.min(...measured.map((r) => r.epochMs)) : null;
    const vbpr = native.rows[0][1];
    console.log(
      `\nepoch time (batch ${batch}, best of ${options.epochs - 1} epochs without validation x ${options.rounds} alternated rounds); engines: ${native.backend}, ${wasm.backend}`,
    );
    console.log(
      `| run | ${native.backend} ms | ${wasm.backend} ms | ${wasm.backend} / ${native.backend} | ${native.backend} x vbpr | ${native.backend} x numpy vbpr |`,
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    if (numpyMs !== null) {
      console.log(
        `| numpy reference VBPR (numpy ${measured[0].numpy}, OpenBLAS default threads) | ${fmt(numpyMs)} | | | ${fmt(numpyMs / vbpr)} | 1 |`,
      );
      if (typeof singleThread !== 'string')
        console.log(
          `| numpy reference VBPR, one BLAS thread | ${fmt(singleThread.epochMs)} | | | ${fmt(singleThread.epochMs / vbpr)} | ${fmt(singleThread.epochMs / numpyMs)} |`,
        );
    }
    native.rows.forEach(([label, ms], i) => {
      const w = wasm.rows[i][1];
      console.log(
        `| ${label} | ${fmt(ms)} | ${fmt(w)} | ${fmt(w / ms)} | ${fmt(ms / vbpr)} | ${numpyMs === null ? 'n/a' : fmt(ms / numpyMs)} |`,
      );
    });
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    if (numpyMs === null) console.log(`\nnotice: numpy reference skipped: ${references[0] as string}`);
    else
      console.log(
        `\nVBPR epoch / numpy epoch = ${fmt(vbpr / numpyMs)} (target <= ${TARGETS.vbprOverNumpy}): ${verdict(vbpr / numpyMs <= TARGETS.vbprOverNumpy)}`,
      );
    const row = (r: EngineResult, label: string) => r.rows.find(([l]) => l === label)?.[1];
    const [teacherNative, teacherWasm] = [
      row(native, 'sgfd teacher (two-stage, step 1)'),
      row(wasm, 'sgfd teacher (two-stage, step 1)'),
    ];
    if (teacherNative && teacherWasm)
      console.log(
        `teacher epoch speed-up over wasm = ${fmt(teacherWasm / teacherNative)} (target >= ${TARGETS.teacherSpeedup}): ${verdict(teacherWasm / teacherNative >= TARGETS.teacherSpeedup)}`,
      );
    const joint = row(native, 'vbpr + sgfd joint');
    if (joint)
      console.log(
        `joint epoch / VBPR epoch = ${fmt(joint / vbpr)} (target <= ${TARGETS.jointOverVbpr}): ${verdict(joint / vbpr <= TARGETS.jointOverVbpr)}`,
      );

    if (options.only.has('eval')) {
      console.log(
        `\nfull-ranking evaluation of all ${dataset.nUsers} users with validation items (best of 3; item representations included)`,
      );
      console.log(`| backbone | ${native.backend} s | ${wasm.backend} s | ${wasm.backend} / ${native.backend} |`);
      console.log('|---|---:|---:|---:|');
      for (const [backbone, seconds] of Object.entries(native.evals))
        console.log(
          `| ${backbone} | ${fmt(seconds)} | ${fmt(wasm.evals[backbone])} | ${fmt(wasm.evals[backbone] / seconds)} |`,
        );
    }
    if (options.only.has('backbones')) await reportBackbones(dir, BENCHED_BACKBONES, options.epochs, options.rounds);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
