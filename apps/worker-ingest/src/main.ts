// Ingestion worker (task queue sgfd-ingest). It also hosts the workflows (sgfd-workflows): its activities
// are short and I/O-bound, so workflow tasks never wait behind a CPU-bound training loop in its event loop.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIngestActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { REPO_ROOT, readLocalServerState } from '@sgfd/tools';

const resolvePath = (specifier: string) => fileURLToPath(import.meta.resolve(specifier));
const workflowsEntry = resolvePath('@sgfd/workflows');

process.exit(
  await runStageWorker({
    stage: 'ingest',
    createActivities: ({ store }) => createIngestActivities({ store }),
    workflows: {
      path: workflowsEntry,
      inputs: [dirname(workflowsEntry), dirname(resolvePath('@sgfd/contracts')), join(REPO_ROOT, 'package-lock.json')],
    },
    defaultMaxActivities: 2,
    shutdownGraceMs: 30_000,
    checkout: { root: REPO_ROOT, localServer: readLocalServerState },
    needsTensorBackend: false,
  }),
);
