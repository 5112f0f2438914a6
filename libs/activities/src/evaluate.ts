import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type {
  EvalActivities,
  EvaluateModelInput,
  EvaluateModelResult,
  ExcludeSeen,
  MetricTable,
  RunConfig,
  RunManifest,
} from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import { originalIds } from '@sgfd/data';
import { curveSvg, evaluateBackbone, evaluatePopularity, restoreBackbone, VALID_METRIC } from '@sgfd/training';
import { failingClearly } from './failures';
import { storedKnnGraphs } from './knn-graphs';
import {
  readScoringBundle,
  recommendAll,
  recommendationSample,
  recommendationsParquet,
  writeScoringBundle,
} from '@sgfd/serving';
import { EVALUATION_FILES, PER_USER_METRICS, reportMarkdown, type PerUserTest, type RunReport } from './report';
import { runRecord } from './run-record';
import { loadSnapshotArtifact } from './snapshot-artifact';
import { MODEL_FOLDER, readTrainingRecord } from './student';

/** Length of each user's recommendation list (covers every metric cutoff); recorded in the file's metadata. */
export const RECOMMENDATIONS_K = 50;
/** The scoring bundle (scoring.json + representations as Parquet) that `sgfd recommend` and `sgfd serve` read. */
export const SCORING_FOLDER = 'scoring';

/** The items the test metrics mask, so that recommendations.parquet ranks as the metrics do. */
export function metricsMasking(config: RunConfig): ExcludeSeen {
  return config.training.maskValidInTest ? 'train+valid' : 'train';
}

export interface EvalDeps {
  store: ArtifactStore;
}

export interface EvaluationMeta {
  test: MetricTable;
  valid: MetricTable;
  popularity: MetricTable;
  run: RunManifest;
}

export function evaluationKey(
  input: Pick<EvaluateModelInput, 'datasetId' | 'model' | 'config' | 'codeVersion'>,
): string {
  return artifactKey({
    inputs: { datasetId: input.datasetId, model: input.model.sha256 },
    config: { maskValidInTest: input.config.training.maskValidInTest, recommendations: RECOMMENDATIONS_K, scoring: 1 },
    codeVersion: input.codeVersion,
  });
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Evaluation: full ranking on test and validation with the best-validation weights, the most-popular
 * baseline, top-K recommendations for every user (Parquet), and the run report (Markdown + JSON + the
 * training curve as SVG), all in one evaluation artifact.
 */
export function createEvalActivities(deps: EvalDeps): EvalActivities {
  return {
    async evaluateModel(input: EvaluateModelInput): Promise<EvaluateModelResult> {
      return failingClearly(async () => {
        const context = Context.current();
        const step = () => {
          context.cancellationSignal.throwIfAborted();
          context.heartbeat();
        };
        const startedAt = new Date().toISOString();
        const key = evaluationKey(input);
        const stored = await deps.store.withArtifact<EvaluationMeta>({ kind: 'evaluation', key }, async (staging) => {
          const dataset = await loadSnapshotArtifact(deps.store, input.snapshot);
          const training = await readTrainingRecord(deps.store, input.model);
          const knnGraphs = await storedKnnGraphs(deps.store, dataset, input.config);
          const model = await restoreBackbone(
            dataset,
            input.config,
            join(await deps.store.openPath(input.model), MODEL_FOLDER),
            knnGraphs,
          );
          try {
            const options = { maskValidInTest: input.config.training.maskValidInTest };
            step();
            const testRanking = evaluateBackbone(dataset, model.backbone, 'test', options);
            const test = testRanking.mean;
            const perUser: PerUserTest = {
              users: Array.from(testRanking.perUser.users),
              metrics: Object.fromEntries(
                PER_USER_METRICS.map((m) => [m, Array.from(testRanking.perUser.metrics[m]!)]),
              ) as PerUserTest['metrics'],
            };
            step();
            const valid = evaluateBackbone(dataset, model.backbone, 'valid', options).mean;
            const popularity = evaluatePopularity(dataset, 'test', options).mean;
            step();
            const ids = await originalIds(dataset.dir!);
            const run = runRecord({ ...input, startedAt });
            const scoringDir = join(staging.dir, SCORING_FOLDER);
            await writeScoringBundle(
              scoringDir,
              model.backbone.representations(),
              dataset.splits,
              {
                backbone: training.backbone,
                sgfd: training.sgfd,
                run: input.runId,
                trainedAt: training.run.finishedAt ?? training.run.startedAt,
                datasetId: dataset.manifest.id,
                test,
              },
              ids,
            );
            step();
            const excludeSeen = metricsMasking(input.config);
            const bundle = await readScoringBundle(scoringDir);
            const recs = recommendAll(bundle.recommender, RECOMMENDATIONS_K, excludeSeen);
            step();
            const report: RunReport = {
              run,
              dataset: {
                id: dataset.manifest.id,
                counts: dataset.manifest.counts,
                categories: dataset.manifest.categories,
                source: dataset.manifest.source.description,
              },
              model: {
                backbone: training.backbone,
                sgfd: training.sgfd,
                bestEpoch: training.bestEpoch,
                epochsRun: training.epochsRun,
                stoppedEarly: training.stoppedEarly,
                resumedFromEpoch: training.attempt.resumedFromEpoch,
              },
              metrics: { test, valid, popularity },
              recommendations: {
                k: recs.k,
                users: dataset.nUsers,
                excludes: excludeSeen === 'train' ? 'training items' : 'training and validation items',
                sample: recommendationSample(recs, bundle.ids),
              },
              files: EVALUATION_FILES,
            };
            const title = `${training.backbone} (sgfd ${training.sgfd}), run ${input.runId}`;
            await writeFile(await staging.path(EVALUATION_FILES.metrics), json({ test, valid, popularity }));
            await writeFile(
              await staging.path(EVALUATION_FILES.recommendations),
              recommendationsParquet(recs, bundle.ids),
            );
            await writeFile(
              await staging.path(EVALUATION_FILES.curve),
              curveSvg(training.history, VALID_METRIC, title),
            );
            await writeFile(await staging.path(EVALUATION_FILES.reportJson), json(report));
            await writeFile(await staging.path(EVALUATION_FILES.perUserTest), JSON.stringify(perUser));
            await writeFile(await staging.path(EVALUATION_FILES.reportMarkdown), reportMarkdown(report));
            return { test, valid, popularity, run };
          } finally {
            model.dispose();
          }
        });
        const { test, valid, popularity } = stored.manifest.meta;
        return { evaluation: stored.ref, reused: stored.reused, test, valid, popularity };
      });
    },
  };
}
