import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  parseConfig,
  RunConfigSchema,
  type RunConfig,
  type RunConfigInput,
  type RunManifest,
} from '@sgfd/contracts';
import { loadSnapshot, type LoadedDataset } from '@sgfd/data';
import { parseBackboneParams, saveTeacherOutputs, type TeacherOutputs, type TeacherReport } from '@sgfd/models';
import { currentBackend, initBackend } from '@sgfd/tensor';
import { codeVersion } from './code-version';
import { curveCsv, curveSvg, type CurveRow } from './curve';
import { evaluatePopularity, VALID_METRIC } from './evaluation';
import { fingerprint } from './fingerprint';
import type { EpochRecord, ProgressListener } from './progress';
import { RUN_FILES } from './run-files';
import { trainStudent, type StudentResult } from './student';
import { pretrainTeacher } from './teacher';

export interface TrainRunOptions {
  /** Where the run writes its files (see RUN_FILES). */
  outDir: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface RunMetrics {
  backbone: string;
  mode: RunConfig['sgfd']['mode'];
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  valid: Record<string, number>;
  test: Record<string, number>;
  /** The most-popular baseline on the same splits, for scale. */
  popularity: { valid: Record<string, number>; test: Record<string, number> };
  teacher: TeacherReport | null;
}

export interface TrainRunResult {
  manifest: RunManifest;
  metrics: RunMetrics;
  outDir: string;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * The results of a completed run in `outDir` (its manifest is written last), when it is the same run;
 * a run directory of another dataset or config is refused.
 */
async function completedRun(outDir: string, datasetId: string, config: RunConfig): Promise<TrainRunResult | null> {
  const path = join(outDir, RUN_FILES.manifest);
  if (!existsSync(path)) return null;
  const manifest = JSON.parse(await readFile(path, 'utf8')) as RunManifest;
  if (manifest.datasetId !== datasetId || fingerprint(manifest.config) !== fingerprint(config)) {
    throw new ConfigError('The run directory holds a finished run of another dataset or config', {
      file: path,
      expected: 'a new --out directory',
    });
  }
  const written = JSON.parse(await readFile(join(outDir, RUN_FILES.metrics), 'utf8')) as RunMetrics & {
    manifest?: RunManifest;
  };
  delete written.manifest;
  return { manifest, metrics: written, outDir };
}

/** The config with every default filled in, the backbone's own parameters included (what the manifest records). */
export function resolveRunConfig(input: RunConfigInput | RunConfig, source = 'run config'): RunConfig {
  const config = parseConfig(RunConfigSchema, input, source);
  return {
    ...config,
    backboneParams: parseBackboneParams(config.backbone, config.backboneParams) as Record<string, unknown>,
  };
}

/**
 * Trains one backbone with one schedule on a snapshot (directory or loaded) and writes, in `outDir`:
 * metrics.json (best-validation epoch's valid and test metrics), curve.csv + curve.svg (loss and
 * validation per epoch), model/ (weights), teacher/ (two-stage teacher outputs) and manifest.json
 * (seed, dataset id, resolved config, backend, code version). Checkpoints go to checkpoints/, so running
 * it again with the same outDir resumes an interrupted run, and returns a finished one as it is.
 */
export async function trainRun(
  datasetOrSnapshotPath: LoadedDataset | string,
  configInput: RunConfigInput | RunConfig,
  options: TrainRunOptions,
): Promise<TrainRunResult> {
  await initBackend();
  const config = resolveRunConfig(configInput);
  const dataset =
    typeof datasetOrSnapshotPath === 'string' ? await loadSnapshot(datasetOrSnapshotPath) : datasetOrSnapshotPath;
  const startedAt = new Date().toISOString();
  const { outDir, onProgress, signal } = options;
  const finished = await completedRun(outDir, dataset.manifest.id, config);
  if (finished) return finished;
  await mkdir(outDir, { recursive: true });

  const curve: CurveRow[] = [];
  const collect = (stage: string, records: EpochRecord[]) => curve.push(...records.map((r) => ({ ...r, stage })));

  let teacher: TeacherOutputs | null = null;
  if (config.sgfd.mode === 'two-stage') {
    const teacherCurve: EpochRecord[] = [];
    let elapsedMs = 0;
    teacher = await pretrainTeacher(dataset, config, {
      onProgress: (e) => {
        if (e.type === 'epoch') {
          teacherCurve.push({
            epoch: e.epoch,
            loss: e.loss,
            valid: e.valid,
            seconds: (e.elapsedMs - elapsedMs) / 1000,
          });
          elapsedMs = e.elapsedMs;
        }
        onProgress?.(e);
      },
      signal,
      checkpointDir: join(outDir, RUN_FILES.checkpoints, 'teacher'),
    });
    collect('teacher', teacherCurve);
    await saveTeacherOutputs(join(outDir, RUN_FILES.teacher), teacher);
  }
  const student: StudentResult = await trainStudent(dataset, config, teacher, {
    onProgress,
    signal,
    checkpointDir: join(outDir, RUN_FILES.checkpoints, 'student'),
    modelDir: join(outDir, RUN_FILES.model),
  });
  collect('student', student.history);

  const evalOptions = { maskValidInTest: config.training.maskValidInTest };
  const metrics: RunMetrics = {
    backbone: student.backbone,
    mode: student.mode,
    bestEpoch: student.bestEpoch,
    epochsRun: student.epochsRun,
    stoppedEarly: student.stoppedEarly,
    valid: student.valid,
    test: student.test,
    popularity: {
      valid: evaluatePopularity(dataset, 'valid', evalOptions).mean,
      test: evaluatePopularity(dataset, 'test', evalOptions).mean,
    },
    teacher: teacher?.report ?? null,
  };
  const manifest: RunManifest = {
    runId: fingerprint({ dataset: dataset.manifest.id, config, code: codeVersion() }).slice(0, 16),
    seed: config.training.seed,
    datasetId: dataset.manifest.id,
    config,
    backend: currentBackend(),
    codeVersion: codeVersion(),
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  const title = `${config.backbone} (sgfd ${config.sgfd.mode}) on ${dataset.manifest.id.slice(0, 12)}`;
  await writeAtomic(join(outDir, RUN_FILES.metrics), `${JSON.stringify({ ...metrics, manifest }, null, 2)}\n`);
  await writeAtomic(join(outDir, RUN_FILES.curveCsv), curveCsv(curve));
  await writeAtomic(join(outDir, RUN_FILES.curveSvg), curveSvg(student.history, VALID_METRIC, title));
  await writeAtomic(join(outDir, RUN_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, metrics, outDir };
}
