// Evaluation worker (task queue sgfd-eval): full-ranking metrics, recommendations and the run report.
import { createEvalActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { REPO_ROOT, readLocalServerState } from '@sgfd/tools';

process.exit(
  await runStageWorker({
    stage: 'eval',
    createActivities: ({ store }) => createEvalActivities({ store }),
    defaultMaxActivities: 1,
    shutdownGraceMs: 30_000,
    checkout: { root: REPO_ROOT, localServer: readLocalServerState },
    needsTensorBackend: true,
  }),
);
