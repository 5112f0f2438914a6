import type { ProgressListener } from './progress';

export interface StageOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Where this stage saves checkpoints every `training.checkpointEvery` epochs, and resumes from. */
  checkpointDir?: string;
}
