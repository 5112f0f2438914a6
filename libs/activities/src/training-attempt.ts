// What a training activity does around the training loop: heartbeat every batch and epoch with
// {epoch, bestValid, checkpointUri}, find the checkpoint of a previous attempt, report progress to the
// workflow, and decide what to do with the checkpoint when the attempt ends.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Context } from '@temporalio/activity';
import { UserError, type Stage, type StageProgressUpdate, type TrainingHeartbeat } from '@sgfd/contracts';
import { currentBackend } from '@sgfd/tensor';
import type { ProgressEvent, ProgressListener } from '@sgfd/training';
import type { ProgressSink } from './progress-sink';

/** How this attempt trained, recorded in the artifact (shows whether a retry resumed or started over). */
export interface AttemptRecord {
  /** Temporal's attempt number (1 for the first). */
  attempt: number;
  /** The checkpoint epoch this attempt continued from, or null when it started from scratch. */
  resumedFromEpoch: number | null;
  /** Epochs this attempt trained itself, in order. */
  trainedEpochs: number[];
}

export interface TrainingAttemptOptions {
  stage: Extract<Stage, 'teacher' | 'student'>;
  /** The artifact key of the stage's output: checkpoints of one computation live under it. */
  key: string;
  checkpointRoot: string;
  maxEpochs: number;
  progress?: ProgressSink;
  /** Least time between two progress reports (the interval grows with the run, bounding history size). */
  progressIntervalMs?: number;
}

function isHeartbeat(value: unknown): value is TrainingHeartbeat {
  const v = value as TrainingHeartbeat | undefined;
  return typeof v?.epoch === 'number' && (v.checkpointUri === null || typeof v.checkpointUri === 'string');
}

export class TrainingAttempt {
  readonly checkpointDir: string;
  readonly record: AttemptRecord;
  private readonly context = Context.current();
  private readonly startedAt = Date.now();
  private state: TrainingHeartbeat;
  private lastReportAt = -Infinity;
  private elapsedSeconds = 0;

  constructor(private readonly options: TrainingAttemptOptions) {
    const info = this.context.info;
    const previous = info.heartbeatDetails;
    const own = join(
      options.checkpointRoot,
      options.stage,
      options.key,
      createHash('sha256')
        .update(`${info.workflowExecution?.workflowId ?? ''}/${info.activityId}`)
        .digest('hex')
        .slice(0, 16),
    );
    // A retry continues from the checkpoint its predecessor heartbeated, when this machine can reach it.
    const reported =
      isHeartbeat(previous) && previous.checkpointUri?.startsWith('file:')
        ? fileURLToPath(previous.checkpointUri)
        : null;
    this.checkpointDir = reported && existsSync(reported) ? reported : own;
    this.state = isHeartbeat(previous) ? { ...previous } : { epoch: 0, bestValid: null, checkpointUri: null };
    this.record = { attempt: info.attempt, resumedFromEpoch: null, trainedEpochs: [] };
    this.beat();
  }

  /** Tells Temporal the attempt is alive (also between steps that are not epochs, e.g. loading data). */
  beat(): void {
    this.context.heartbeat(this.state);
  }

  /** Aborts when the activity is cancelled (workflow cancelled, heartbeat timeout, worker shutdown). */
  get signal(): AbortSignal {
    return this.context.cancellationSignal;
  }

  get heartbeat(): TrainingHeartbeat {
    return { ...this.state };
  }

  readonly onProgress: ProgressListener = (event: ProgressEvent) => {
    switch (event.type) {
      case 'batch':
        break;
      case 'resumed':
        this.record.resumedFromEpoch = event.epoch;
        this.state = { ...this.state, epoch: event.epoch, checkpointUri: pathToFileURL(event.dir).href };
        break;
      case 'epoch':
        this.record.trainedEpochs.push(event.epoch);
        this.elapsedSeconds = event.elapsedMs / 1000;
        this.state = {
          ...this.state,
          epoch: event.epoch,
          bestValid: Number.isFinite(event.bestScore) ? event.bestScore : null,
        };
        break;
      case 'checkpoint':
        this.state = { ...this.state, checkpointUri: pathToFileURL(event.dir).href };
        break;
    }
    // The SDK sends at most one heartbeat per 0.8 x heartbeat timeout, always with the latest details.
    this.beat();
    if (event.type === 'epoch' || event.type === 'resumed') this.report(event.type === 'resumed');
  };

  private report(force: boolean): void {
    const sink = this.options.progress;
    const target = this.context.info.workflowExecution;
    if (!sink || !target) return;
    const now = Date.now();
    const interval = Math.max(this.options.progressIntervalMs ?? 2_000, (now - this.startedAt) / 40);
    if (!force && this.record.trainedEpochs.length > 1 && now - this.lastReportAt < interval) return;
    this.lastReportAt = now;
    const { workflowId, runId } = target;
    const update: StageProgressUpdate = {
      stage: this.options.stage,
      maxEpochs: this.options.maxEpochs,
      elapsedSeconds: this.elapsedSeconds,
      backend: currentBackend(),
      ...this.state,
    };
    sink({ workflowId, runId }, update).catch((e: unknown) =>
      this.context.log.warn('progress report failed', { error: (e as Error).message }),
    );
  }

  /**
   * After the attempt: a finished or cancelled computation leaves no checkpoint behind, nor does bad input
   * (no retry will come); any other failure (worker stopped, crash, timeout) keeps it for the retry.
   */
  async settle(error?: unknown): Promise<void> {
    const discard =
      error === undefined || error instanceof UserError || this.context.cancellationDetails?.cancelRequested === true;
    if (!discard) return;
    await rm(this.checkpointDir, { recursive: true, force: true });
    // Empty parents (<root>/.checkpoints/<stage>/<key>) go too; rmdir refuses any that still hold something.
    for (let dir = dirname(this.checkpointDir); dir.startsWith(this.options.checkpointRoot); dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  }
}

/** `<artifact root>/.checkpoints` for a file store: checkpoints live next to the artifacts they lead to. */
export function defaultCheckpointRoot(storeRootUri: string): string {
  return join(fileURLToPath(storeRootUri), '.checkpoints');
}
