// scheduledRetrain: what a Temporal Schedule starts. Re-ingests the source; when the snapshot and the
// config are those of the champion (or of the challenger already decided against it) it records a no-op and
// ends; otherwise it trains and evaluates (a trainPipeline child), re-scores the champion on the NEW
// snapshot's validation split, and the challenger becomes champion only if it scores higher there.
// Deterministic workflow code: imports only @sgfd/contracts and @temporalio/workflow.
import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  DatasetSpecSchema,
  RETRAIN_PROGRESS_QUERY,
  RunConfigSchema,
  WORKFLOW_TASK_QUEUE,
  parseConfig,
  stageActivityOptions,
  type ChampionActivities,
  type ChampionDecision,
  type ChampionRecord,
  type ExtractActivities,
  type IngestActivities,
  type RetrainProgress,
  type ScheduledRetrainInput,
} from '@sgfd/contracts';
import { validateWorkflowInput } from './validate-input';
import { trainPipeline } from './trainPipeline';

export const retrainProgressQuery = defineQuery<RetrainProgress>(RETRAIN_PROGRESS_QUERY);

export const DEFAULT_RETRAIN_METRIC = 'recall@20';

const now = () => new Date().toISOString();
const short = (id: string) => id.slice(0, 12);

const validate = (input: ScheduledRetrainInput): ScheduledRetrainInput =>
  validateWorkflowInput('retrain', input, ['scheduleId', 'codeVersion'], (i) => ({
    ...i,
    config: parseConfig(RunConfigSchema, i.config, 'run config'),
    dataset: parseConfig(DatasetSpecSchema, i.dataset, 'dataset'),
  }));

export async function scheduledRetrain(rawInput: ScheduledRetrainInput): Promise<ChampionDecision> {
  const workflowId = workflowInfo().workflowId;
  const progress: RetrainProgress = {
    scheduleId: rawInput.scheduleId,
    step: 'ingest',
    trainWorkflowId: null,
    outcome: null,
  };
  setHandler(retrainProgressQuery, () => progress);
  try {
    const input = validate(rawInput);
    const { scheduleId, config, codeVersion } = input;
    const metric = input.metric ?? DEFAULT_RETRAIN_METRIC;
    const { ingestDataset } = proxyActivities<IngestActivities>(stageActivityOptions('ingest', input.timeouts?.ingest));
    const { extractFeatures } = proxyActivities<ExtractActivities>(
      stageActivityOptions('extract', input.timeouts?.extract),
    );
    const { readChampion, scoreChampion, recordDecision } = proxyActivities<ChampionActivities>(
      stageActivityOptions('eval', input.timeouts?.eval),
    );

    // A raw catalogue's snapshot is stored by extraction (which encodes only new or changed items); the
    // training child then finds it stored.
    const { dataset } = input;
    const ingest =
      dataset.kind === 'raw'
        ? await extractFeatures({ runId: workflowId, dataset, codeVersion })
        : await ingestDataset({ runId: workflowId, dataset, codeVersion });
    progress.step = 'compare';
    const { latest, configKey } = await readChampion({ scheduleId, config, codeVersion });
    const champion = latest?.champion ?? null;
    const base = {
      scheduleId,
      seq: (latest?.seq ?? 0) + 1,
      workflowId,
      datasetId: ingest.datasetId,
      configKey,
      metric,
    };

    const record = async (decision: ChampionDecision): Promise<ChampionDecision> => {
      progress.step = 'record';
      await recordDecision({ decision });
      progress.outcome = decision.outcome;
      progress.step = 'done';
      return decision;
    };

    const sameAsChampion =
      champion !== null && champion.datasetId === ingest.datasetId && champion.configKey === configKey;
    const alreadyDecided =
      latest?.challenger != null && latest.datasetId === ingest.datasetId && latest.configKey === configKey;
    if (sameAsChampion || alreadyDecided) {
      return record({
        ...base,
        decidedAt: now(),
        outcome: 'no-op',
        reason: sameAsChampion
          ? `snapshot ${short(ingest.datasetId)} and config unchanged since the champion was trained`
          : `snapshot ${short(ingest.datasetId)} and config already decided in run ${latest!.seq} (${latest!.outcome})`,
        challenger: null,
        championScore: null,
        champion,
      });
    }

    progress.step = 'train';
    progress.trainWorkflowId = `${workflowId}/train`;
    const summary = await executeChild(trainPipeline, {
      workflowId: progress.trainWorkflowId,
      taskQueue: WORKFLOW_TASK_QUEUE,
      args: [
        { runId: progress.trainWorkflowId, dataset: input.dataset, config, codeVersion, timeouts: input.timeouts },
      ],
    });
    if (summary.datasetId !== ingest.datasetId) {
      throw ApplicationFailure.nonRetryable(
        `The source changed while this run trained (snapshot ${short(ingest.datasetId)} became ${short(summary.datasetId)}); the next run decides on it`,
        'SourceChanged',
      );
    }
    const challengerValid = summary.valid[metric];
    if (challengerValid === undefined) {
      throw ApplicationFailure.nonRetryable(
        `Metric '${metric}' is not among the validation metrics (${Object.keys(summary.valid).join(', ')})`,
        'ConfigError',
      );
    }

    let championScore: number | null = null;
    let unscorable: string | null = null;
    if (champion) {
      progress.step = 'score-champion';
      const scored = await scoreChampion({ champion, snapshot: summary.artifacts.snapshot, metric });
      championScore = scored.score;
      unscorable = scored.reason;
    }

    const decidedAt = now();
    const challenger = {
      model: summary.artifacts.model,
      evaluation: summary.artifacts.evaluation,
      valid: challengerValid,
      metrics: { valid: summary.valid, test: summary.test },
    };
    const on = `valid ${metric} of snapshot ${short(ingest.datasetId)}`;
    let promote: boolean;
    let reason: string;
    if (!champion) [promote, reason] = [true, `first model: challenger ${challengerValid.toFixed(4)} on ${on}`];
    else if (championScore === null)
      [promote, reason] = [
        true,
        `the champion cannot score the new snapshot (${unscorable}); challenger ${challengerValid.toFixed(4)} on ${on}`,
      ];
    else {
      promote = challengerValid > championScore;
      reason = `challenger ${challengerValid.toFixed(4)} ${promote ? '>' : '<='} champion ${championScore.toFixed(4)} on ${on}`;
    }
    const newChampion: ChampionRecord | null = promote
      ? {
          model: summary.artifacts.model,
          evaluation: summary.artifacts.evaluation,
          snapshot: summary.artifacts.snapshot,
          datasetId: summary.datasetId,
          counts: ingest.counts,
          config,
          configKey,
          codeVersion,
          metrics: challenger.metrics,
          workflowId: progress.trainWorkflowId,
          since: decidedAt,
        }
      : champion;
    return await record({
      ...base,
      decidedAt,
      outcome: promote ? 'promoted' : 'kept',
      reason,
      challenger,
      championScore,
      champion: newChampion,
    });
  } catch (e) {
    progress.step = isCancellation(e) || CancellationScope.current().consideredCancelled ? 'cancelled' : 'failed';
    throw e;
  }
}
