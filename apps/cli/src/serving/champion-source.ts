// Follows a schedule's champion: the champion history is a folder of immutable artifacts published by one
// rename each, so a watch on that folder (inotify, no polling) says when a decision was recorded; the
// latest decision is then read and, when it names another champion, its bundle is loaded in full before
// the swap. Requests in flight keep the model they started with.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@sgfd/contracts';
import { latestDecision } from '@sgfd/activities/champion-history';
import { openArtifactStore } from '@sgfd/artifacts';
import { readScoringBundle, servedModel, type ModelSource, type ServedModel } from '@sgfd/serving';
import { championBundle } from './model-ref';

class NoChampionError extends UserError {
  override readonly name = 'NoChampionError';
}

export interface ChampionSourceEvents {
  /** A new champion is in service. */
  onSwitch?(model: ServedModel): void;
  /** Reading a new decision or loading its model failed; the current model stays in service. */
  onError?(error: unknown): void;
}

export async function championSource(
  artifactRoot: string,
  scheduleId: string,
  events: ChampionSourceEvents = {},
): Promise<ModelSource & { refresh(): Promise<void> }> {
  const root = artifactRoot.startsWith('file:') ? fileURLToPath(artifactRoot) : artifactRoot;
  const store = openArtifactStore(root);
  const load = async (): Promise<ServedModel | null> => {
    const decision = await latestDecision(store, scheduleId);
    if (!decision?.champion) return null;
    const dir = championBundle(decision.champion, scheduleId);
    return servedModel(await readScoringBundle(dir), dir);
  };
  const first = await load();
  if (!first) throw new NoChampionError(`schedule ${scheduleId} has no champion in ${root} yet`);
  let current = first;
  let queue = Promise.resolve();
  const refresh = () => {
    // One refresh at a time, in order: a burst of events becomes a few reads of the latest decision.
    queue = queue.then(async () => {
      try {
        const decision = await latestDecision(store, scheduleId);
        const dir = decision?.champion ? championBundle(decision.champion, scheduleId) : null;
        if (!dir || dir === current.source) return;
        current = servedModel(await readScoringBundle(dir), dir);
        events.onSwitch?.(current);
      } catch (error) {
        events.onError?.(error);
      }
    });
    return queue;
  };
  const historyDir = join(root, 'champion');
  await mkdir(historyDir, { recursive: true });
  const watcher: FSWatcher = watch(historyDir, () => void refresh());
  // A decision recorded between the first read and the watch start.
  await refresh();
  return {
    current: () => current,
    refresh,
    close: async () => {
      watcher.close();
      await queue;
    },
  };
}
