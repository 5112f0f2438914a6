// The champion history's layout in the artifact store: one immutable `champion` artifact per decision at
// (schedule, seq), seq from 1. Light on purpose (artifacts and contracts only): the CLI lists histories
// without loading the training stack.
import type { ChampionDecision, RunConfig } from '@sgfd/contracts';
import { artifactKey, type ArtifactStore } from '@sgfd/artifacts';

export const DECISION_FILE = 'decision.json';
/** Versions the layout of the history (not the code that trains): part of every decision's address. */
const HISTORY_FORMAT = 'champion-history/1';

/** Address of decision `seq` (from 1) of a schedule. */
export function decisionKey(scheduleId: string, seq: number): string {
  return artifactKey({ inputs: { scheduleId, seq }, config: null, codeVersion: HISTORY_FORMAT });
}

/** Equal keys mean an identical training recipe: the same run config and the same code version. */
export function configKeyOf(config: RunConfig, codeVersion: string): string {
  return artifactKey({ inputs: null, config, codeVersion });
}

export async function readDecision(
  store: ArtifactStore,
  scheduleId: string,
  seq: number,
): Promise<ChampionDecision | undefined> {
  const found = await store.find({ kind: 'champion', key: decisionKey(scheduleId, seq) });
  return found?.manifest.meta as ChampionDecision | undefined;
}

/** Every decision of a schedule, oldest first (empty for a schedule that never ran). */
export async function listChampionHistory(store: ArtifactStore, scheduleId: string): Promise<ChampionDecision[]> {
  const history: ChampionDecision[] = [];
  for (let seq = 1; ; seq++) {
    const decision = await readDecision(store, scheduleId, seq);
    if (!decision) return history;
    history.push(decision);
  }
}

export async function latestDecision(store: ArtifactStore, scheduleId: string): Promise<ChampionDecision | null> {
  return (await listChampionHistory(store, scheduleId)).at(-1) ?? null;
}
