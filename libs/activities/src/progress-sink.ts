import type { Client } from '@temporalio/client';
import { STAGE_PROGRESS_SIGNAL, type StageProgressUpdate } from '@sgfd/contracts';

/** The workflow execution an activity works for. */
export interface WorkflowTarget {
  workflowId: string;
  runId: string;
}

/** Where a training activity reports its progress (a few times a minute) for the workflow's progress query. */
export type ProgressSink = (target: WorkflowTarget, update: StageProgressUpdate) => Promise<void>;

/** Reports progress as the `stageProgress` signal to the workflow that scheduled the activity. */
export function signalWorkflowProgress(client: Client): ProgressSink {
  return async (target, update) => {
    await client.workflow.getHandle(target.workflowId, target.runId).signal(STAGE_PROGRESS_SIGNAL, update);
  };
}
