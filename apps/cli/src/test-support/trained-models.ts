// Two small models trained and evaluated by the real activities in a temp artifact store, and the champion
// decisions of a schedule naming them: what `sgfd recommend` and `sgfd serve` are tested on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  RunConfigSchema,
  parseConfig,
  type ChampionDecision,
  type ChampionRecord,
  type DatasetSpec,
  type EvaluateModelResult,
  type IngestDatasetResult,
  type RunConfig,
} from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import {
  createChampionActivities,
  createEvalActivities,
  createIngestActivities,
  createStudentActivities,
} from '@sgfd/activities';

const DATASET: DatasetSpec = {
  kind: 'synthetic',
  preset: 'tiny',
  seed: 7,
  overrides: { users: 120, items: 90, categories: 5, interactionsPerUser: 14, imageDim: 48, textDim: 24 },
};

export interface TrainedModel {
  config: RunConfig;
  evaluation: EvaluateModelResult;
  /** The evaluation artifact's folder. */
  evaluationDir: string;
  champion: ChampionRecord;
}

export interface TrainedModels {
  root: string;
  store: FileArtifactStore;
  snapshot: IngestDatasetResult;
  models: [TrainedModel, TrainedModel];
  /** Records decision `seq` of `scheduleId` with `model` as the champion, through the champion activity. */
  promote(scheduleId: string, seq: number, model: TrainedModel): Promise<void>;
  remove(): Promise<void>;
}

const quiet = () => undefined;
/** MockActivityEnvironment.run typed by the activity (the SDK's signature infers `unknown`). */
const env = () => {
  const mock = new MockActivityEnvironment(undefined, {
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  return {
    run: <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) => mock.run(fn, ...args) as Promise<R>,
  };
};

export async function trainTwoModels(): Promise<TrainedModels> {
  await (await import('@sgfd/tensor')).initBackend();
  const root = await mkdtemp(join(tmpdir(), 'sgfd-serving-'));
  const store = new FileArtifactStore(root);
  const base = { codeVersion: 'test' };
  const snapshot = await env().run(createIngestActivities({ store }).ingestDataset, {
    ...base,
    runId: 'ingest',
    dataset: DATASET,
  });
  const train = async (seed: number, epochs: number): Promise<TrainedModel> => {
    const config = parseConfig(RunConfigSchema, {
      backbone: 'vbpr',
      sgfd: { mode: 'off' },
      training: { epochs, patience: 50, learningRate: 0.01, batchSize: 256, seed },
    });
    const stage = { ...base, runId: `run-${seed}`, snapshot: snapshot.snapshot, datasetId: snapshot.datasetId, config };
    const student = await env().run(createStudentActivities({ store }).distillStudent, { ...stage, teacher: null });
    const evaluation = await env().run(createEvalActivities({ store }).evaluateModel, {
      ...stage,
      model: student.model,
    });
    return {
      config,
      evaluation,
      evaluationDir: fileURLToPath(evaluation.evaluation.uri),
      champion: {
        model: student.model,
        evaluation: evaluation.evaluation,
        snapshot: snapshot.snapshot,
        datasetId: snapshot.datasetId,
        counts: { users: 120, items: 90, interactions: 0, train: 0, valid: 0, test: 0 },
        config,
        configKey: `config-${seed}`,
        codeVersion: 'test',
        metrics: { valid: evaluation.valid, test: evaluation.test },
        workflowId: `run-${seed}`,
        since: new Date(seed * 1000).toISOString(),
      },
    };
  };
  const models: [TrainedModel, TrainedModel] = [await train(1, 2), await train(2, 6)];
  return {
    root,
    store,
    snapshot,
    models,
    async promote(scheduleId, seq, model) {
      const decision: ChampionDecision = {
        scheduleId,
        seq,
        decidedAt: new Date(seq * 1000).toISOString(),
        workflowId: model.champion.workflowId,
        outcome: 'promoted',
        reason: 'test',
        datasetId: snapshot.datasetId,
        configKey: model.champion.configKey,
        metric: 'recall@20',
        challenger: null,
        championScore: null,
        champion: model.champion,
      };
      await env().run(createChampionActivities({ store }).recordDecision, { decision });
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
