// Scheduled retraining: what a Temporal Schedule starts (`scheduledRetrain`), the champion record and the
// decision history kept in the artifact store, and the activities that read and write them.
import type { ArtifactRef } from './artifacts';
import type { RunConfig } from './config';
import type { DatasetManifest } from './dataset';
import type { DatasetSpec, StageTimeoutOverrides } from './pipeline';
import type { Stage } from './queues';
import type { MetricTable } from './run';

export const SCHEDULED_RETRAIN_WORKFLOW = 'scheduledRetrain';
/** Query name: returns RetrainProgress. */
export const RETRAIN_PROGRESS_QUERY = 'retrainProgress';

export interface ScheduledRetrainInput {
  /** The schedule's id: names the champion and its history. */
  scheduleId: string;
  /** The source re-ingested on every run (an MMRec or Parquet folder, a snapshot, or synthetic). */
  dataset: DatasetSpec;
  config: RunConfig;
  codeVersion: string;
  /** Validation metric a challenger must beat the champion on (default recall@20). */
  metric?: string;
  timeouts?: Partial<Record<Stage, StageTimeoutOverrides>>;
}

/** The model in service for a schedule. */
export interface ChampionRecord {
  model: ArtifactRef;
  evaluation: ArtifactRef;
  /** The snapshot it was trained on. */
  snapshot: ArtifactRef;
  datasetId: string;
  counts: DatasetManifest['counts'];
  config: RunConfig;
  /** artifactKey of (config, code version): equal keys mean an identical training recipe. */
  configKey: string;
  codeVersion: string;
  /** Its own metrics (on the snapshot it was trained on). */
  metrics: { valid: MetricTable; test: MetricTable };
  /** The workflow run that trained it. */
  workflowId: string;
  /** When it became champion. */
  since: string;
}

export type RetrainOutcome = 'no-op' | 'promoted' | 'kept';

/** One entry of a schedule's decision history (sequence numbers from 1, one per retrain run). */
export interface ChampionDecision {
  scheduleId: string;
  seq: number;
  decidedAt: string;
  workflowId: string;
  outcome: RetrainOutcome;
  /** Why, in words: "snapshot and config unchanged", "challenger 0.31 > champion 0.29 on valid recall@20 of snapshot ab12…". */
  reason: string;
  datasetId: string;
  configKey: string;
  metric: string;
  /** The model trained by this run; null for a no-op. */
  challenger: {
    model: ArtifactRef;
    evaluation: ArtifactRef;
    valid: number;
    metrics: { valid: MetricTable; test: MetricTable };
  } | null;
  /** The previous champion re-scored on this run's snapshot (validation split); null without a champion or when it cannot score it. */
  championScore: number | null;
  /** The champion after this decision. */
  champion: ChampionRecord | null;
}

export interface ReadChampionInput {
  scheduleId: string;
  config: RunConfig;
  codeVersion: string;
}

export interface ReadChampionResult {
  /** The latest decision (null before the first run); its `champion` is the one in service. */
  latest: ChampionDecision | null;
  /** The configKey the given config and code version have. */
  configKey: string;
}

export interface ScoreChampionInput {
  champion: ChampionRecord;
  snapshot: ArtifactRef;
  metric: string;
}

export interface ScoreChampionResult {
  /** The champion's validation metric on the snapshot; null when it cannot score it (users or items changed). */
  score: number | null;
  reason: string | null;
}

export interface RecordDecisionInput {
  /** The decision, with `seq` = latest seq + 1; recording fails (ChampionConflict) if that seq is taken. */
  decision: ChampionDecision;
}

export interface ChampionActivities {
  readChampion(input: ReadChampionInput): Promise<ReadChampionResult>;
  scoreChampion(input: ScoreChampionInput): Promise<ScoreChampionResult>;
  recordDecision(input: RecordDecisionInput): Promise<{ decision: ArtifactRef }>;
}

export interface RetrainProgress {
  scheduleId: string;
  step: 'ingest' | 'compare' | 'train' | 'score-champion' | 'record' | 'done' | 'failed' | 'cancelled';
  /** The training child's workflow id once it runs. */
  trainWorkflowId: string | null;
  outcome: RetrainOutcome | null;
}

export type ScheduledRetrainResult = ChampionDecision;
