import type { ArtifactStore } from '@sgfd/artifacts';
import type { ProgressSink } from './progress-sink';
import { defaultCheckpointRoot } from './training-attempt';

export interface TrainingDeps {
  store: ArtifactStore;
  /** Where running trainings keep checkpoints; `<artifact root>/.checkpoints` by default. Must be reachable
   * by every worker of the stage (a retry may run on another machine). */
  checkpointRoot?: string;
  /** Progress reports to the workflow (the `stageProgress` signal); none when absent. */
  progress?: ProgressSink;
  progressIntervalMs?: number;
}

export function checkpointRootOf(deps: TrainingDeps): string {
  return deps.checkpointRoot ?? defaultCheckpointRoot(deps.store.rootUri);
}
