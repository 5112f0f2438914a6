import { fileCheckpoints, type ArtifactStore, type CheckpointSpace } from '@sgfd/artifacts';
import type { ProgressSink } from './progress-sink';

export interface TrainingDeps {
  store: ArtifactStore;
  /** A folder for running trainings' checkpoints instead of the store's own space (`<file root>/.checkpoints`,
   * or `<prefix>/.checkpoints/` in a bucket). Must be reachable by every worker of the stage. */
  checkpointRoot?: string;
  /** Progress reports to the workflow (the `stageProgress` signal); none when absent. */
  progress?: ProgressSink;
  progressIntervalMs?: number;
}

export function checkpointsOf(deps: TrainingDeps): CheckpointSpace {
  return deps.checkpointRoot ? fileCheckpoints(deps.checkpointRoot) : deps.store.checkpoints;
}
