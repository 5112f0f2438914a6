// Feature-extraction worker (task queue sgfd-extract): raw catalogues to snapshots with text features. CPU
// heavy (a sentence encoder over every new item), so it has its own queue and processes: ingestion and the
// workflows never wait behind it. The text model is fetched into the machine's cache before polling starts.
import { createExtractActivities } from '@sgfd/activities';
import { runStageWorker } from '@sgfd/activities/hosting';
import { sgfdStateDir, ensureTextModel, readLocalServerState } from '@sgfd/tools';

await ensureTextModel();
process.exit(
  await runStageWorker({
    stage: 'extract',
    createActivities: ({ store, progress }) => createExtractActivities({ store, progress }),
    defaultMaxActivities: 1,
    shutdownGraceMs: 30_000,
    checkout: { stateDir: sgfdStateDir(), localServer: readLocalServerState },
    needsTensorBackend: false,
  }),
);
