export type TrainingStage = 'teacher' | 'student';

/** Mean over the epoch's batches of the total loss (`total`) and of each named part. */
export type LossSummary = Record<string, number>;

export interface EpochRecord {
  epoch: number;
  loss: LossSummary;
  /** Validation metrics, on the epochs that were evaluated. */
  valid: Record<string, number> | null;
  seconds: number;
}

export type ProgressEvent =
  | { type: 'batch'; stage: TrainingStage; epoch: number; batch: number; batches: number }
  | {
      type: 'epoch';
      stage: TrainingStage;
      epoch: number;
      maxEpochs: number;
      loss: LossSummary;
      valid: Record<string, number> | null;
      /** The validation metric early stopping watches, e.g. `recall@20` or `accuracy`. */
      metric: string;
      bestEpoch: number;
      bestScore: number;
      improved: boolean;
      elapsedMs: number;
      /** Time left if training runs to the epoch limit. */
      etaMs: number;
      /** Time left if validation does not improve again (early stopping then ends the run). */
      etaIfNoImprovementMs: number;
    }
  | { type: 'checkpoint'; stage: TrainingStage; epoch: number; dir: string }
  | { type: 'resumed'; stage: TrainingStage; epoch: number; dir: string };

export type ProgressListener = (event: ProgressEvent) => void;

/** Lets timers, heartbeats and cancellation run between batches. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
