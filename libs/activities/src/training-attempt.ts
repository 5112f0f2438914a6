// What a training activity does around the training loop: heartbeat every batch and epoch with
// {epoch, bestValid, checkpointUri}, find the checkpoint of a previous attempt, report progress to the
// workflow, and decide what to do with the checkpoint when the attempt ends.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { CheckpointSpace } from '@sgfd/artifacts';
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
  /** Where checkpoints go so that a retry on any worker of the stage finds them (the store's space). */
  checkpoints: CheckpointSpace;
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
  readonly record: AttemptRecord;
  private readonly context = Context.current();
  private readonly startedAt = Date.now();
  private state: TrainingHeartbeat;
  private lastReportAt = -Infinity;
  private elapsedSeconds = 0;
  /** '<stage>/<key>/<attempt id>' in the checkpoint space; the previous attempt's when it is resumed. */
  private checkpointPath: string;
  private readonly reportedUri: string | null;
  /** Uploads of checkpoints still running (their failures are logged, never fatal to the training). */
  private publishing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TrainingAttemptOptions) {
    const info = this.context.info;
    const previous = info.heartbeatDetails;
    this.checkpointPath = [
      options.stage,
      options.key,
      createHash('sha256')
        .update(`${info.workflowExecution?.workflowId ?? ''}/${info.activityId}`)
        .digest('hex')
        .slice(0, 16),
    ].join('/');
    this.reportedUri = isHeartbeat(previous) ? previous.checkpointUri : null;
    this.state = isHeartbeat(previous) ? { ...previous } : { epoch: 0, bestValid: null, checkpointUri: null };
    this.record = { attempt: info.attempt, resumedFromEpoch: null, trainedEpochs: [] };
    this.beat();
  }

  /**
   * The local folder the training keeps its checkpoint in. A retry first brings in the checkpoint its
   * predecessor heartbeated (downloaded when it lives on another machine's side of an object store).
   */
  async checkpointDir(): Promise<string> {
    if (this.reportedUri) {
      const found = await this.options.checkpoints.fetch(this.reportedUri);
      if (found !== null) this.checkpointPath = found;
    }
    return this.options.checkpoints.localDir(this.checkpointPath);
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
        this.state = {
          ...this.state,
          epoch: event.epoch,
          checkpointUri: this.options.checkpoints.uriOf(this.checkpointPath),
        };
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
        this.publish();
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

  /** Copies the checkpoint just saved where other workers reach it; heartbeats name it once it is there. */
  private publish(): void {
    // publish() reads the files before it returns, so the next save cannot change what is uploaded.
    const upload = this.options.checkpoints.publish(this.checkpointPath);
    this.publishing = this.publishing
      .then(() => upload)
      .then(
        (uri) => {
          this.state = { ...this.state, checkpointUri: uri };
          this.beat();
        },
        (e: unknown) =>
          this.context.log.warn('checkpoint upload failed; heartbeats keep the previous one', {
            error: (e as Error).message,
          }),
      );
  }

  /**
   * After the attempt: a finished or cancelled computation leaves no checkpoint behind, nor does bad input
   * (no retry will come); any other failure (worker stopped, crash, timeout) keeps it for the retry.
   */
  async settle(error?: unknown): Promise<void> {
    await this.publishing;
    const discard =
      error === undefined || error instanceof UserError || this.context.cancellationDetails?.cancelRequested === true;
    if (!discard) return;
    await this.options.checkpoints.discard(this.checkpointPath);
  }
}
