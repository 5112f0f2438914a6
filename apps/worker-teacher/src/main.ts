// Teacher pretraining worker (task queue sgfd-teacher): one training at a time, one core each.
import { createTeacherActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { sgfdStateDir, prepareTensorflowEngine, readLocalServerState } from '@sgfd/tools';

process.exit(
  await runStageWorker({
    stage: 'teacher',
    createActivities: (deps) => createTeacherActivities(deps),
    defaultMaxActivities: 1,
    // A stopped training keeps its checkpoint; its retry resumes on another worker.
    shutdownGraceMs: 2_000,
    checkout: {
      stateDir: sgfdStateDir(),
      localServer: readLocalServerState,
      prepareTensorEngine: prepareTensorflowEngine,
    },
    needsTensorBackend: true,
  }),
);
