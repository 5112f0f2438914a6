// Shared by the learning tests of the GRCN, LATTICE, FREEDOM and MAML backbones (see learning.test.ts
// for VBPR and BM3): the tiny preset, settings that learn in a few hundred steps, and the checks.
import { readFile } from 'node:fs/promises';
import { RunConfigSchema, type BackboneName, type RunConfig } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';
import { MODEL_FILE_BASE, tensorIndexPath, type TeacherOutputs } from '@sgfd/models';
import { evaluatePopularity } from '../evaluation';
import { trainStudent, type StudentResult } from '../student';
import { pretrainTeacher } from '../teacher';
import { tinyDataset } from '../test-support/datasets';

export interface LearningSettings {
  backboneParams?: Record<string, unknown>;
  training?: Partial<RunConfig['training']>;
}

/** A small-data run: three epochs at a larger learning rate than MMRec's 1e-3, validated once at the end (each backbone passes 2x popularity by then). */
export function learningConfig(
  backbone: BackboneName,
  mode: RunConfig['sgfd']['mode'],
  settings: LearningSettings = {},
): RunConfig {
  return RunConfigSchema.parse({
    backbone,
    backboneParams: settings.backboneParams ?? {},
    training: { learningRate: 0.01, batchSize: 512, epochs: 3, evalEvery: 3, patience: 1, ...settings.training },
    sgfd: {
      mode,
      ceWeight: 1,
      kdWeight: 1,
      teacher: { epochs: 30, patience: 3, learningRate: 0.02, batchSize: 64, holdoutFraction: 0.2 },
    },
  });
}

export async function popularity(dataset: LoadedDataset): Promise<number> {
  return evaluatePopularity(dataset, 'valid').mean['recall@20'];
}

let teacher: Promise<TeacherOutputs> | undefined;

/** The teacher of the tiny preset, pretrained once per test file. */
export function tinyTeacher(): Promise<TeacherOutputs> {
  teacher ??= tinyDataset().then((dataset) => pretrainTeacher(dataset, learningConfig('vbpr', 'two-stage')));
  return teacher;
}

/** Trains with the schedule and reports what filled each projection slot of the saved model. */
export async function trainWithSchedule(
  backbone: BackboneName,
  mode: RunConfig['sgfd']['mode'],
  modelDir: string,
  settings: LearningSettings = {},
): Promise<{ result: StudentResult; projections: Record<string, string> }> {
  const dataset = await tinyDataset();
  const outputs = mode === 'two-stage' ? await tinyTeacher() : null;
  const result = await trainStudent(dataset, learningConfig(backbone, mode, settings), outputs, { modelDir });
  const meta = JSON.parse(await readFile(tensorIndexPath(modelDir, MODEL_FILE_BASE), 'utf8')) as {
    meta: { projections: Record<string, string> };
  };
  return { result, projections: meta.meta.projections };
}
