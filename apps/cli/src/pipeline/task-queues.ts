import type { Connection } from '@temporalio/client';
// A CommonJS package: Node's ESM loader gives it only as a default export.
import proto from '@temporalio/proto';
import { TASK_QUEUES, WORKFLOW_TASK_QUEUE } from '@sgfd/contracts';

const { TaskQueueType } = proto.temporal.api.enums.v1;

/** Task queues of the pipeline that no worker has polled recently (a run would wait on them forever). */
export async function queuesWithoutWorkers(connection: Connection, namespace: string): Promise<string[]> {
  const queues: [string, number][] = [
    [WORKFLOW_TASK_QUEUE, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
    ...Object.values(TASK_QUEUES).map((q): [string, number] => [q, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]),
  ];
  const missing: string[] = [];
  for (const [name, taskQueueType] of queues) {
    const described = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name },
      taskQueueType,
    });
    if (!described.pollers?.length) missing.push(name);
  }
  return missing;
}
