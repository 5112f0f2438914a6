// The training pipeline's contract: what `trainPipeline` takes and returns, the four activities it calls,
// each stage's activity options, and the progress it reports. Shared by workflows (types and constants
// only), activities, workers and the CLI.
import { z } from 'zod';
import type { ArtifactRef } from './artifacts';
import type { RunConfig } from './config';
import type { DatasetManifest } from './dataset';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';
import { TASK_QUEUES, type Stage } from './queues';
import type { MetricTable } from './run';

/** Task queue of the workers that host the workflows (activities run on TASK_QUEUES). */
export const WORKFLOW_TASK_QUEUE = 'sgfd-workflows';
export const TRAIN_PIPELINE_WORKFLOW = 'trainPipeline';

// ---------------------------------------------------------------------------------------------------------
// Input

/** Generator knobs a run may override on top of a synthetic preset. */
export const SyntheticOverridesSchema = z
  .object({
    users: z.number().int().positive(),
    items: z.number().int().positive(),
    categories: z.number().int().positive(),
    interactionsPerUser: z.number().positive(),
    categorySignal: z.number().min(0).max(1),
    imageDim: z.number().int().positive(),
    textDim: z.number().int().positive(),
  })
  .partial()
  .strict();

/** The sources a run's data may come from (strict: a misspelt key is an error, not ignored). */
export const DATASET_SPEC_VARIANTS = [
  z.strictObject({
    kind: z.literal('synthetic'),
    /** A preset of the synthetic generator (`tiny`, `office`, `baby`); checked by the ingest activity. */
    preset: z.string().min(1),
    seed: z.number().int().nonnegative(),
    overrides: SyntheticOverridesSchema.optional(),
  }),
  /** A snapshot directory written before (`sgfd data ingest` or a previous run). */
  z.strictObject({ kind: z.literal('snapshot'), path: z.string().min(1) }),
  /** An MMRec dataset folder (`<name>.inter`, `image_feat.npy`, `text_feat.npy`, ...). */
  z.strictObject({ kind: z.literal('mmrec'), dir: z.string().min(1), name: z.string().min(1).optional() }),
  /** A folder of Parquet tables (interactions, items, one per modality). */
  z.strictObject({ kind: z.literal('parquet'), dir: z.string().min(1) }),
  /**
   * A raw catalogue: interactions and items tables (Parquet, CSV, JSON Lines) with the source's own ids,
   * text columns, image paths and categories. The `extractFeatures` stage turns it into a snapshot.
   */
  z.strictObject({
    kind: z.literal('raw'),
    interactions: z.string().min(1),
    items: z.string().min(1),
    columns: z
      .strictObject({
        user: z.string().min(1),
        item: z.string().min(1),
        rating: z.string().min(1),
        timestamp: z.string().min(1),
        itemId: z.string().min(1),
        text: z.array(z.string().min(1)),
        image: z.string().min(1),
        category: z.string().min(1),
      })
      .partial()
      .optional(),
    categoryLevel: z.number().int().min(1).optional(),
    categorySeparator: z.string().min(1).optional(),
    unknownItems: z.enum(['reject', 'drop']).optional(),
    splitSeed: z.number().int().nonnegative().optional(),
    /** How texts are joined and cut before encoding (defaults: '. ', 128 tokens). */
    text: z
      .strictObject({ separator: z.string(), maxTokens: z.number().int().min(3).max(512) })
      .partial()
      .optional(),
    /**
     * The ONNX image encoder (needs columns.image) and its preprocessing where the sidecar `<model>.json`
     * does not declare it. Absent: no image features.
     */
    image: z
      .strictObject({
        model: z.string().min(1),
        input: z.string().min(1).optional(),
        output: z.string().min(1).optional(),
        resize: z.number().int().positive().optional(),
        crop: z.number().int().positive().optional(),
        mean: z.tuple([z.number(), z.number(), z.number()]).optional(),
        std: z.tuple([z.number(), z.number(), z.number()]).optional(),
      })
      .optional(),
    /** Items encoded per chunk (one heartbeat, one cache file each). */
    chunkSize: z.number().int().positive().optional(),
  }),
] as const;

/** Where a run's data comes from; ingestion turns any of them into a content-addressed snapshot. */
export const DatasetSpecSchema = z.discriminatedUnion('kind', [...DATASET_SPEC_VARIANTS]);
export type DatasetSpec = z.infer<typeof DatasetSpecSchema>;
export type RawDatasetSpec = Extract<DatasetSpec, { kind: 'raw' }>;

/** Per-run overrides of a stage's timeouts (tests shorten heartbeats; very large datasets lengthen runs). */
export interface StageTimeoutOverrides {
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
}

export interface TrainPipelineInput {
  /** Names the run in artifacts, logs and reports; the CLI uses it as the workflow id. */
  runId: string;
  dataset: DatasetSpec;
  /** A config already parsed with RunConfigSchema (defaults filled); the workflow validates it again. */
  config: RunConfig;
  /** Code version recorded in every artifact key; a new version recomputes instead of reusing. */
  codeVersion: string;
  timeouts?: Partial<Record<Stage, StageTimeoutOverrides>>;
}

// ---------------------------------------------------------------------------------------------------------
// Activities (payloads: ArtifactRefs, configs, small metrics; never tensors)

export interface ExtractFeaturesInput {
  runId: string;
  dataset: RawDatasetSpec;
  codeVersion: string;
}

/**
 * The snapshot with the extracted features, stored as the `snapshot` artifact ingestion stores for other
 * sources (same layout and meta): it is the run's snapshot, and ingestion has nothing left to do.
 */
export interface ExtractFeaturesResult extends IngestDatasetResult {
  /** Per modality: items encoded by this run, items taken from the feature cache, items without usable input. */
  encoded: Record<string, number>;
  cached: Record<string, number>;
  failed: Record<string, number>;
  /** The chunk a retried attempt found finished before it (from its last heartbeat), else null. */
  resumedAfterChunk: number | null;
}

/** Heartbeat details of extractFeatures: while hashing the items' contents, then once per finished chunk. */
export interface ExtractHeartbeat {
  modality: string;
  /** Absent in heartbeats of attempts before hashing beat (they were all `encoding`). */
  phase?: 'hashing' | 'encoding';
  /** Chunks of this modality finished (0 while hashing). */
  chunk: number;
  done: number;
  total: number;
}

export interface IngestDatasetInput {
  runId: string;
  dataset: DatasetSpec;
  codeVersion: string;
}

export interface IngestDatasetResult {
  snapshot: ArtifactRef;
  /** The snapshot's content hash (DatasetManifest.id). */
  datasetId: string;
  counts: DatasetManifest['counts'];
  /** Number of item categories; null when the source has none (SGFD cannot run then). */
  categories: number | null;
  modalities: string[];
  /** True when an identical snapshot was already in the store. */
  reused: boolean;
}

export interface PretrainTeacherInput {
  runId: string;
  snapshot: ArtifactRef;
  datasetId: string;
  config: RunConfig;
  codeVersion: string;
}

export interface PretrainTeacherResult {
  /** Teacher weights and its outputs (features and logits for every item). */
  teacher: ArtifactRef;
  reused: boolean;
  epochsTrained: number;
  bestEpoch: number;
  /** Held-out category accuracy of the best epoch. */
  bestValid: number;
  /**
   * The same accuracy of a closed-form ridge probe on the same features (mean over modalities, as bestValid):
   * what a linear map reaches, so a teacher well below it is undertrained. Null for older artifacts.
   */
  probeAccuracy: number | null;
  /** The checkpoint epoch this attempt resumed from (it trained from the next epoch on), else null. */
  resumedFromEpoch: number | null;
}

export interface DistillStudentInput {
  runId: string;
  snapshot: ArtifactRef;
  datasetId: string;
  /** The teacher artifact for two-stage SGFD; null for the plain backbone and the joint schedule. */
  teacher: ArtifactRef | null;
  config: RunConfig;
  codeVersion: string;
}

export interface DistillStudentResult {
  /** Best-validation weights of the backbone (and student extractors). */
  model: ArtifactRef;
  reused: boolean;
  epochsTrained: number;
  bestEpoch: number;
  /** Validation Recall@20 of the best epoch. */
  bestValid: number;
  resumedFromEpoch: number | null;
  /** The artifact holding the training curve (loss, valid recall@20 per evaluated epoch) for the report. */
  curve: ArtifactRef | null;
}

export interface EvaluateModelInput {
  runId: string;
  snapshot: ArtifactRef;
  datasetId: string;
  model: ArtifactRef;
  config: RunConfig;
  codeVersion: string;
}

export interface EvaluateModelResult {
  /** metrics.json (the same numbers as below), top-K recommendations as Parquet, the run report. */
  evaluation: ArtifactRef;
  reused: boolean;
  /** Full-ranking metrics at 5/10/20/50 on the test and validation splits. */
  test: MetricTable;
  valid: MetricTable;
  /** The most-popular-items baseline on the test split, for comparison. */
  popularity: MetricTable;
}

export interface ExtractActivities {
  extractFeatures(input: ExtractFeaturesInput): Promise<ExtractFeaturesResult>;
}
export interface IngestActivities {
  ingestDataset(input: IngestDatasetInput): Promise<IngestDatasetResult>;
}
export interface TeacherActivities {
  pretrainTeacher(input: PretrainTeacherInput): Promise<PretrainTeacherResult>;
}
export interface StudentActivities {
  distillStudent(input: DistillStudentInput): Promise<DistillStudentResult>;
}
export interface EvalActivities {
  evaluateModel(input: EvaluateModelInput): Promise<EvaluateModelResult>;
}
export type PipelineActivities = ExtractActivities &
  IngestActivities &
  TeacherActivities &
  StudentActivities &
  EvalActivities;

/**
 * Details of every heartbeat of a training activity (at least once per epoch). A retried attempt reads the
 * last one from `activityInfo().heartbeatDetails` and resumes from `checkpointUri`.
 */
export interface TrainingHeartbeat {
  /** Last completed epoch (1-based); 0 before the first. */
  epoch: number;
  /** Best validation metric so far (Recall@20 for students, category accuracy for the teacher). */
  bestValid: number | null;
  /** ArtifactRef.uri of the latest checkpoint, or null before the first. */
  checkpointUri: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// Activity options, one place for every stage

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Structurally an ActivityOptions of the Temporal SDK (durations in milliseconds). */
export interface StageActivityOptions {
  taskQueue: string;
  startToCloseTimeout: number;
  heartbeatTimeout: number;
  retry: {
    initialInterval: number;
    backoffCoefficient: number;
    maximumInterval: number;
    maximumAttempts: number;
    nonRetryableErrorTypes: string[];
  };
}

const retry = (maximumAttempts: number): StageActivityOptions['retry'] => ({
  initialInterval: SECOND,
  backoffCoefficient: 2,
  maximumInterval: MINUTE,
  maximumAttempts,
  // Bad data and bad config fail the same way every time: fail the run at once with the message.
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
});

/**
 * Defaults for each stage's activity: the training stages are one long heartbeating activity each, so
 * startToClose bounds a whole training run and the heartbeat timeout is how fast a dead worker is noticed.
 */
export const STAGE_ACTIVITY_OPTIONS: Record<Stage, StageActivityOptions> = {
  extract: {
    taskQueue: TASK_QUEUES.extract,
    startToCloseTimeout: 12 * HOUR,
    heartbeatTimeout: 5 * MINUTE,
    retry: retry(5),
  },
  ingest: { taskQueue: TASK_QUEUES.ingest, startToCloseTimeout: HOUR, heartbeatTimeout: MINUTE, retry: retry(5) },
  teacher: {
    taskQueue: TASK_QUEUES.teacher,
    startToCloseTimeout: 12 * HOUR,
    heartbeatTimeout: MINUTE,
    retry: retry(5),
  },
  student: {
    taskQueue: TASK_QUEUES.student,
    startToCloseTimeout: 24 * HOUR,
    heartbeatTimeout: MINUTE,
    retry: retry(5),
  },
  eval: { taskQueue: TASK_QUEUES.eval, startToCloseTimeout: 2 * HOUR, heartbeatTimeout: MINUTE, retry: retry(5) },
};

/** A stage's options with a run's overrides applied. */
export function stageActivityOptions(stage: Stage, overrides?: StageTimeoutOverrides): StageActivityOptions {
  const base = STAGE_ACTIVITY_OPTIONS[stage];
  return {
    ...base,
    startToCloseTimeout: overrides?.startToCloseTimeoutMs ?? base.startToCloseTimeout,
    heartbeatTimeout: overrides?.heartbeatTimeoutMs ?? base.heartbeatTimeout,
    retry: { ...base.retry, nonRetryableErrorTypes: [...base.retry.nonRetryableErrorTypes] },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Progress

/** Query name: returns PipelineProgress. */
export const PIPELINE_PROGRESS_QUERY = 'progress';
/** Signal name: a training activity reports StageProgressUpdate to its workflow (throttled, a few a minute). */
export const STAGE_PROGRESS_SIGNAL = 'stageProgress';

export const PIPELINE_STAGES = ['extract', 'ingest', 'teacher', 'student', 'eval'] as const satisfies readonly Stage[];

export type StageStatus = 'pending' | 'running' | 'done' | 'reused' | 'skipped' | 'failed' | 'cancelled';

export interface StageProgressUpdate extends TrainingHeartbeat {
  stage: Stage;
  /** The configured epoch limit (early stopping usually ends sooner); for extract, `epoch` / `maxEpochs` are items done / items. */
  maxEpochs: number;
  /** Seconds this attempt has trained so far, for the ETA. */
  elapsedSeconds: number;
  /** The tensor engine the attempt trains on (tensorflow-gpu, tensorflow, wasm or cpu). */
  backend: string;
}

export interface StageProgress {
  status: StageStatus;
  startedAt: string | null;
  finishedAt: string | null;
  epoch: number | null;
  maxEpochs: number | null;
  bestValid: number | null;
  /** The teacher's reference: the ridge probe's held-out accuracy (PretrainTeacherResult.probeAccuracy). */
  reference: number | null;
  /** The tensor engine of a training stage, once it reports. */
  backend: string | null;
}

export interface PipelineProgress {
  runId: string;
  /** The stage running now, or the outcome once the run ended. */
  stage: Stage | 'done' | 'failed' | 'cancelled';
  stages: Record<Stage, StageProgress>;
  /** Seconds left in the running training stage if it ran to its epoch limit (an upper bound). */
  etaSeconds: number | null;
  updatedAt: string;
}

// ---------------------------------------------------------------------------------------------------------
// Output

export interface RunSummary {
  runId: string;
  datasetId: string;
  backbone: RunConfig['backbone'];
  sgfd: RunConfig['sgfd']['mode'];
  seed: number;
  codeVersion: string;
  artifacts: {
    snapshot: ArtifactRef;
    teacher: ArtifactRef | null;
    model: ArtifactRef;
    evaluation: ArtifactRef;
  };
  /** Which stages reused an existing artifact instead of computing. */
  reused: Record<Stage, boolean>;
  test: MetricTable;
  valid: MetricTable;
  popularity: MetricTable;
  bestEpoch: number;
  startedAt: string;
  finishedAt: string;
}
