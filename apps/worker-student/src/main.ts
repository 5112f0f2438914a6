// Student distillation / backbone training worker (task queue sgfd-student): one training at a time.
import { createStudentActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { sgfdStateDir, prepareTensorflowEngine, readLocalServerState } from '@sgfd/tools';

process.exit(
  await runStageWorker({
    stage: 'student',
    createActivities: (deps) => createStudentActivities(deps),
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
