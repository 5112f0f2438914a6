// Student distillation / backbone training worker (task queue sgfd-student): one training at a time.
import { createStudentActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { sgfdHome, prepareTensorflowEngine, readLocalServerState } from '@sgfd/tools';

process.exit(
  await runStageWorker({
    stage: 'student',
    createActivities: (deps) => createStudentActivities(deps),
    defaultMaxActivities: 1,
    // A stopped training keeps its checkpoint; its retry resumes on another worker.
    shutdownGraceMs: 2_000,
    checkout: { root: sgfdHome(), localServer: readLocalServerState, prepareTensorEngine: prepareTensorflowEngine },
    needsTensorBackend: true,
  }),
);
