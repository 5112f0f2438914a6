import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  PretrainTeacherInput,
  PretrainTeacherResult,
  RunConfig,
  RunManifest,
  TeacherActivities,
} from '@sgfd/contracts';
import { artifactKey } from '@sgfd/artifacts';
import { pretrainTeacher, saveTeacherOutputs, type TeacherOutputs } from '@sgfd/training';
import { failingClearly } from './failures';
import { runRecord } from './run-record';
import { loadSnapshotArtifact } from './snapshot-artifact';
import { TrainingAttempt, type AttemptRecord } from './training-attempt';
import { checkpointsOf, type TrainingDeps } from './training-deps';

/** Inside a teacher artifact: the teacher outputs (features and logits of every item, classifier weights). */
export const TEACHER_OUTPUTS_FOLDER = 'outputs';

function meanProbeAccuracy(report: TeacherOutputs['report']): number | undefined {
  const values = Object.values(report.probe ?? {}).map((p) => p!.accuracy);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

export interface TeacherMeta {
  bestEpoch: number;
  epochsRun: number;
  /** Held-out category accuracy of the best epoch. */
  bestValid: number;
  /** The ridge probe's held-out accuracy, mean over modalities (absent in artifacts of older versions). */
  probeAccuracy?: number;
  attempt: AttemptRecord;
  run: RunManifest;
}

/**
 * The teacher depends on the data, the SGFD settings and the seed only, not on the backbone: every
 * student of the same dataset and SGFD settings reuses one teacher.
 */
export function teacherKey(datasetId: string, config: RunConfig, codeVersion: string): string {
  return artifactKey({ inputs: { datasetId }, config: { sgfd: config.sgfd, seed: config.training.seed }, codeVersion });
}

export function createTeacherActivities(deps: TrainingDeps): TeacherActivities {
  return {
    async pretrainTeacher(input: PretrainTeacherInput): Promise<PretrainTeacherResult> {
      return failingClearly(async () => {
        const startedAt = new Date().toISOString();
        const key = teacherKey(input.datasetId, input.config, input.codeVersion);
        const attempt = new TrainingAttempt({
          stage: 'teacher',
          key,
          checkpoints: checkpointsOf(deps),
          maxEpochs: input.config.sgfd.teacher.epochs,
          progress: deps.progress,
          progressIntervalMs: deps.progressIntervalMs,
        });
        try {
          const stored = await deps.store.withArtifact<TeacherMeta>({ kind: 'teacher', key }, async (staging) => {
            const dataset = await loadSnapshotArtifact(deps.store, input.snapshot);
            attempt.beat();
            const outputs = await pretrainTeacher(dataset, input.config, {
              checkpointDir: await attempt.checkpointDir(),
              onProgress: attempt.onProgress,
              signal: attempt.signal,
            });
            await saveTeacherOutputs(join(staging.dir, TEACHER_OUTPUTS_FOLDER), outputs);
            const meta: TeacherMeta = {
              bestEpoch: outputs.report.bestEpoch,
              epochsRun: outputs.report.epochsRun,
              bestValid: outputs.report.holdoutAccuracy,
              probeAccuracy: meanProbeAccuracy(outputs.report),
              attempt: attempt.record,
              run: runRecord({ ...input, startedAt }),
            };
            await writeFile(
              await staging.path('training.json'),
              `${JSON.stringify({ ...meta, report: outputs.report }, null, 2)}\n`,
            );
            return meta;
          });
          await attempt.settle();
          const meta = stored.manifest.meta;
          return {
            teacher: stored.ref,
            reused: stored.reused,
            epochsTrained: meta.epochsRun,
            bestEpoch: meta.bestEpoch,
            bestValid: meta.bestValid,
            probeAccuracy: meta.probeAccuracy ?? null,
            resumedFromEpoch: stored.reused ? null : meta.attempt.resumedFromEpoch,
          };
        } catch (error) {
          await attempt.settle(error);
          throw error;
        }
      });
    },
  };
}
