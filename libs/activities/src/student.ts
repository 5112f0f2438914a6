import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DistillStudentInput,
  DistillStudentResult,
  MetricTable,
  RunConfig,
  RunManifest,
  StudentActivities,
} from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import { loadTeacherOutputs, trainStudent, type EpochRecord } from '@sgfd/training';
import type { ArtifactRef } from '@sgfd/contracts';
import { failingClearly } from './failures';
import { storedKnnGraphs } from './knn-graphs';
import { runRecord } from './run-record';
import { loadSnapshotArtifact } from './snapshot-artifact';
import { TEACHER_OUTPUTS_FOLDER } from './teacher';
import { TrainingAttempt, type AttemptRecord } from './training-attempt';
import { checkpointsOf, type TrainingDeps } from './training-deps';

/** Inside a model artifact: the best-validation weights (backbone and, with SGFD, the student extractors). */
export const MODEL_FOLDER = 'model';
/** Inside a model artifact: the training record (curve, attempt, run), what the report's curve is drawn from. */
export const TRAINING_RECORD_FILE = 'training.json';

export interface ModelMeta {
  backbone: string;
  sgfd: RunConfig['sgfd']['mode'];
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  /** Validation metrics of the best epoch. */
  valid: MetricTable;
  /** Test metrics of the same weights, as measured right after training. */
  test: MetricTable;
  attempt: AttemptRecord;
  run: RunManifest;
}

export interface TrainingRecord extends ModelMeta {
  history: EpochRecord[];
}

export function modelKey(input: Pick<DistillStudentInput, 'datasetId' | 'teacher' | 'config' | 'codeVersion'>): string {
  return artifactKey({
    inputs: { datasetId: input.datasetId, teacher: input.teacher?.sha256 ?? null },
    config: input.config,
    codeVersion: input.codeVersion,
  });
}

export async function readTrainingRecord(store: ArtifactStore, model: ArtifactRef): Promise<TrainingRecord> {
  return JSON.parse(new TextDecoder().decode(await store.get(model, TRAINING_RECORD_FILE))) as TrainingRecord;
}

export function createStudentActivities(deps: TrainingDeps): StudentActivities {
  return {
    async distillStudent(input: DistillStudentInput): Promise<DistillStudentResult> {
      return failingClearly(async () => {
        const startedAt = new Date().toISOString();
        const key = modelKey(input);
        const attempt = new TrainingAttempt({
          stage: 'student',
          key,
          checkpoints: checkpointsOf(deps),
          maxEpochs: input.config.training.epochs,
          progress: deps.progress,
          progressIntervalMs: deps.progressIntervalMs,
        });
        try {
          const stored = await deps.store.withArtifact<ModelMeta>({ kind: 'model', key }, async (staging) => {
            const dataset = await loadSnapshotArtifact(deps.store, input.snapshot);
            attempt.beat();
            const teacher = input.teacher
              ? await loadTeacherOutputs(join(await deps.store.openPath(input.teacher), TEACHER_OUTPUTS_FOLDER))
              : null;
            const knnGraphs = await storedKnnGraphs(deps.store, dataset, input.config);
            attempt.beat();
            const result = await trainStudent(dataset, input.config, teacher, {
              knnGraphs,
              checkpointDir: await attempt.checkpointDir(),
              modelDir: join(staging.dir, MODEL_FOLDER),
              onProgress: attempt.onProgress,
              signal: attempt.signal,
            });
            const meta: ModelMeta = {
              backbone: result.backbone,
              sgfd: result.mode,
              bestEpoch: result.bestEpoch,
              epochsRun: result.epochsRun,
              stoppedEarly: result.stoppedEarly,
              valid: result.valid,
              test: result.test,
              attempt: attempt.record,
              run: runRecord({ ...input, startedAt }),
            };
            const record: TrainingRecord = { ...meta, history: result.history };
            await writeFile(await staging.path(TRAINING_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
            return meta;
          });
          await attempt.settle();
          const meta = stored.manifest.meta;
          return {
            model: stored.ref,
            reused: stored.reused,
            epochsTrained: meta.epochsRun,
            bestEpoch: meta.bestEpoch,
            bestValid: meta.valid['recall@20'] ?? 0,
            resumedFromEpoch: stored.reused ? null : meta.attempt.resumedFromEpoch,
            // The training curve is the model artifact's training.json.
            curve: stored.ref,
          };
        } catch (error) {
          await attempt.settle(error);
          throw error;
        }
      });
    },
  };
}
