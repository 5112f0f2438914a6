import { fileURLToPath } from 'node:url';
import type { RunSummary } from '@sgfd/contracts';
import { readLocalServerState } from '@sgfd/tools';
import type { TemporalTarget } from '@sgfd/activities/connection';

/** The Web UI page of a run when the server is this checkout's local dev server (its UI address is known). */
export async function webUiLink(
  target: Pick<TemporalTarget, 'address' | 'namespace'>,
  workflowId?: string,
): Promise<string | null> {
  const local = await readLocalServerState().catch(() => undefined);
  if (!local || local.address !== target.address) return null;
  return workflowId
    ? `${local.uiUrl}/namespaces/${target.namespace}/workflows/${encodeURIComponent(workflowId)}`
    : local.uiUrl;
}

/** Local folder of a run's evaluation artifact (report.md, recommendations.parquet), when it is a file:// one. */
export function evaluationDirOf(summary: RunSummary): string | null {
  const uri = summary.artifacts.evaluation.uri;
  return uri.startsWith('file:') ? fileURLToPath(uri) : null;
}
