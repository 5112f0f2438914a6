// Evaluation worker (task queue sgfd-eval): full-ranking metrics, recommendations and the run report; also
// experiment-suite reports and the champion of scheduled retraining (re-scoring needs the tensor backend).
import { createChampionActivities, createEvalActivities, createSuiteActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { sgfdStateDir, prepareTensorflowEngine, readLocalServerState } from '@sgfd/tools';

process.exit(
  await runStageWorker({
    stage: 'eval',
    createActivities: ({ store }) => ({
      ...createEvalActivities({ store }),
      ...createSuiteActivities({ store }),
      ...createChampionActivities({ store }),
    }),
    defaultMaxActivities: 1,
    shutdownGraceMs: 30_000,
    checkout: {
      stateDir: sgfdStateDir(),
      localServer: readLocalServerState,
      prepareTensorEngine: prepareTensorflowEngine,
    },
    needsTensorBackend: true,
  }),
);
