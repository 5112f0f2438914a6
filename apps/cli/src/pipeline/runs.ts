import { WorkflowNotFoundError, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { UserError } from '@sgfd/contracts';
import type { Connected } from './connect';

export class RunNotFoundError extends UserError {
  override readonly name = 'RunNotFoundError';
}

/** The run's handle and description; an unknown id is a one-line user error naming the server and namespace. */
export async function describeRun(
  { client, target }: Connected,
  id: string,
): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle(id);
  try {
    return { handle, description: await handle.describe() };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) {
      throw new RunNotFoundError(
        `No run '${id}' on Temporal at ${target.address} (namespace ${target.namespace}); \`sgfd status\` lists the latest runs`,
      );
    }
    throw e;
  }
}
