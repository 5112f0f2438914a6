// trainPipeline: extract (raw catalogues only; it stores their snapshot) -> ingest (other sources) -> teacher
// (two-stage SGFD only) -> student -> evaluate -> RunSummary.
// Deterministic workflow code: imports only @sgfd/contracts and @temporalio/workflow.
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  DatasetSpecSchema,
  PIPELINE_PROGRESS_QUERY,
  PIPELINE_STAGES,
  RunConfigSchema,
  STAGE_PROGRESS_SIGNAL,
  needsCategories,
  parseConfig,
  stageActivityOptions,
  type EvalActivities,
  type ExtractActivities,
  type ExtractFeaturesResult,
  type IngestActivities,
  type IngestDatasetResult,
  type PipelineProgress,
  type PretrainTeacherResult,
  type RunSummary,
  type Stage,
  type StageProgress,
  type StageProgressUpdate,
  type StageStatus,
  type StudentActivities,
  type TeacherActivities,
  type TrainPipelineInput,
} from '@sgfd/contracts';
import { validateWorkflowInput } from './validate-input';

export const progressQuery = defineQuery<PipelineProgress>(PIPELINE_PROGRESS_QUERY);
export const stageProgressSignal = defineSignal<[StageProgressUpdate]>(STAGE_PROGRESS_SIGNAL);

function activityOptions(stage: Stage, input: TrainPipelineInput): ActivityOptions {
  return {
    ...stageActivityOptions(stage, input.timeouts?.[stage]),
    // On cancellation, wait until the activity has stopped and cleaned up its staging area, so a cancelled
    // run ends with no activity still writing.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}

/** Keeps what the progress query returns; updated by the workflow and by activities' progress signals. */
class ProgressTracker {
  private readonly state: PipelineProgress;
  private elapsedSeconds = 0;

  constructor(runId: string) {
    const pending = (): StageProgress => ({
      status: 'pending',
      startedAt: null,
      finishedAt: null,
      epoch: null,
      maxEpochs: null,
      bestValid: null,
      reference: null,
      backend: null,
    });
    const stages = Object.fromEntries(PIPELINE_STAGES.map((s) => [s, pending()])) as Record<Stage, StageProgress>;
    this.state = { runId, stage: 'extract', stages, etaSeconds: null, updatedAt: now() };
  }

  begin(stage: Stage): void {
    Object.assign(this.state.stages[stage], { status: 'running', startedAt: now() });
    this.state.stage = stage;
    this.elapsedSeconds = 0;
    this.touch();
  }

  /** A finished training stage also reports its final numbers (progress signals are throttled and may lag). */
  end(
    stage: Stage,
    status: StageStatus,
    training?: { bestValid: number; epochsTrained: number; maxEpochs: number; probeAccuracy?: number | null },
  ): void {
    const s = this.state.stages[stage];
    Object.assign(s, { status, finishedAt: status === 'skipped' ? null : now() });
    if (training)
      Object.assign(s, {
        bestValid: training.bestValid,
        epoch: training.epochsTrained,
        maxEpochs: training.maxEpochs,
        reference: training.probeAccuracy ?? null,
      });
    this.state.etaSeconds = null;
    this.touch();
  }

  /** Applies a training activity's report; late reports of a stage that is no longer running are ignored. */
  report(update: StageProgressUpdate): void {
    const s = this.state.stages[update.stage];
    if (!s || s.status !== 'running') return;
    Object.assign(s, {
      epoch: update.epoch,
      maxEpochs: update.maxEpochs,
      bestValid: update.bestValid,
      backend: update.backend ?? null,
    });
    this.elapsedSeconds = update.elapsedSeconds;
    this.state.etaSeconds =
      update.epoch > 0
        ? Math.max(0, Math.round((this.elapsedSeconds / update.epoch) * (update.maxEpochs - update.epoch)))
        : null;
    this.touch();
  }

  finish(outcome: 'done' | 'failed' | 'cancelled'): void {
    if (outcome !== 'done') {
      for (const stage of PIPELINE_STAGES) {
        const s = this.state.stages[stage];
        if (s.status === 'running') Object.assign(s, { status: outcome, finishedAt: now() });
      }
    }
    this.state.stage = outcome;
    this.state.etaSeconds = null;
    this.touch();
  }

  get value(): PipelineProgress {
    return this.state;
  }

  private touch(): void {
    this.state.updatedAt = now();
  }
}

// Workflow time: deterministic on replay.
const now = () => new Date().toISOString();

/** Rejects a bad input before any activity runs: a non-retryable failure naming the field. */
const validate = (input: TrainPipelineInput): TrainPipelineInput =>
  validateWorkflowInput('pipeline', input, ['runId', 'codeVersion'], (i) => ({
    ...i,
    config: parseConfig(RunConfigSchema, i.config, 'run config'),
    dataset: parseConfig(DatasetSpecSchema, i.dataset, 'dataset'),
  }));

export async function trainPipeline(rawInput: TrainPipelineInput): Promise<RunSummary> {
  const progress = new ProgressTracker(rawInput.runId);
  setHandler(progressQuery, () => progress.value);
  setHandler(stageProgressSignal, (update) => progress.report(update));
  const startedAt = now();

  const input = validate(rawInput);
  const { runId, config, codeVersion } = input;
  const { extractFeatures } = proxyActivities<ExtractActivities>(activityOptions('extract', input));
  const { ingestDataset } = proxyActivities<IngestActivities>(activityOptions('ingest', input));
  const { pretrainTeacher } = proxyActivities<TeacherActivities>(activityOptions('teacher', input));
  const { distillStudent } = proxyActivities<StudentActivities>(activityOptions('student', input));
  const { evaluateModel } = proxyActivities<EvalActivities>(activityOptions('eval', input));

  try {
    // A raw catalogue is turned into a snapshot with extracted features, which extraction stores as the
    // snapshot artifact ingestion stores for other sources: its ingestion is done with it (stored once).
    let extract: ExtractFeaturesResult | null = null;
    let ingest: IngestDatasetResult;
    const { dataset } = input;
    if (dataset.kind === 'raw') {
      progress.begin('extract');
      extract = await extractFeatures({ runId, dataset, codeVersion });
      progress.end('extract', extract.reused ? 'reused' : 'done');
      progress.begin('ingest');
      ingest = extract;
    } else {
      progress.end('extract', 'skipped');
      progress.begin('ingest');
      ingest = await ingestDataset({ runId, dataset, codeVersion });
    }
    progress.end('ingest', ingest.reused ? 'reused' : 'done');
    const { snapshot, datasetId } = ingest;

    if (needsCategories(config.sgfd.mode) && ingest.categories === null) {
      throw ApplicationFailure.nonRetryable(
        `SGFD (mode '${config.sgfd.mode}') needs item categories, but dataset ${datasetId} has none: run with --sgfd off or add categories`,
        'DatasetError',
      );
    }

    // Two-stage SGFD pretrains the teacher on its own; 'joint' trains it inside the student stage; 'off' and
    // 'control' have none.
    let teacher: PretrainTeacherResult | null = null;
    if (config.sgfd.mode === 'two-stage') {
      progress.begin('teacher');
      const result = await pretrainTeacher({ runId, snapshot, datasetId, config, codeVersion });
      progress.end('teacher', result.reused ? 'reused' : 'done', { ...result, maxEpochs: config.sgfd.teacher.epochs });
      teacher = result;
    } else {
      progress.end('teacher', 'skipped');
    }

    progress.begin('student');
    const student = await distillStudent({
      runId,
      snapshot,
      datasetId,
      teacher: teacher?.teacher ?? null,
      config,
      codeVersion,
    });
    progress.end('student', student.reused ? 'reused' : 'done', { ...student, maxEpochs: config.training.epochs });

    progress.begin('eval');
    const evaluation = await evaluateModel({ runId, snapshot, datasetId, model: student.model, config, codeVersion });
    progress.end('eval', evaluation.reused ? 'reused' : 'done');

    progress.finish('done');
    return {
      runId,
      datasetId,
      backbone: config.backbone,
      sgfd: config.sgfd.mode,
      seed: config.training.seed,
      codeVersion,
      artifacts: {
        snapshot,
        teacher: teacher?.teacher ?? null,
        model: student.model,
        evaluation: evaluation.evaluation,
      },
      reused: {
        extract: extract?.reused ?? false,
        ingest: ingest.reused,
        teacher: teacher?.reused ?? false,
        student: student.reused,
        eval: evaluation.reused,
      },
      test: evaluation.test,
      valid: evaluation.valid,
      popularity: evaluation.popularity,
      bestEpoch: student.bestEpoch,
      startedAt,
      finishedAt: now(),
    };
  } catch (e) {
    // Cancellation reaches the running activity through its next heartbeat; with WAIT_CANCELLATION_COMPLETED
    // the await above only settles once it has stopped, so nothing is left running when the workflow ends.
    const cancelled = isCancellation(e) || CancellationScope.current().consideredCancelled;
    progress.finish(cancelled ? 'cancelled' : 'failed');
    throw e;
  }
}
