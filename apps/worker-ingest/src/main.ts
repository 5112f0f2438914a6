// Ingestion worker (task queue sgfd-ingest). It also hosts the workflows (sgfd-workflows): its activities
// are short and I/O-bound, so workflow tasks never wait behind a CPU-bound training loop in its event loop.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIngestActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { BUILD_INFO } from '@sgfd/contracts';
import { REPO_ROOT, readLocalServerState, sgfdStateDir } from '@sgfd/tools';

/** From source: the workflow sources, bundled on first start and cached. From dist/: the bundle built beside this file. */
function workflowSources() {
  if (BUILD_INFO) return { codePath: fileURLToPath(new URL('./workflow-bundle.js', import.meta.url)) };
  const resolvePath = (specifier: string) => fileURLToPath(import.meta.resolve(specifier));
  const workflowsEntry = resolvePath('@sgfd/workflows');
  return {
    path: workflowsEntry,
    inputs: [dirname(workflowsEntry), dirname(resolvePath('@sgfd/contracts')), join(REPO_ROOT, 'package-lock.json')],
  };
}

process.exit(
  await runStageWorker({
    stage: 'ingest',
    createActivities: ({ store }) => createIngestActivities({ store }),
    workflows: workflowSources(),
    defaultMaxActivities: 2,
    shutdownGraceMs: 30_000,
    checkout: { stateDir: sgfdStateDir(), localServer: readLocalServerState },
    needsTensorBackend: false,
  }),
);
