// Activities of scheduled retraining (eval queue): read the champion, re-score it on a new snapshot, record
// a decision. Every retrain run records one decision (champion-history.ts); the latest names the champion in
// service. Publishing a seq is atomic, so two runs cannot both record decision n.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type {
  ArtifactRef,
  ChampionActivities,
  ChampionDecision,
  ReadChampionInput,
  ReadChampionResult,
  RecordDecisionInput,
  ScoreChampionInput,
  ScoreChampionResult,
} from '@sgfd/contracts';
import type { ArtifactStore } from '@sgfd/artifacts';
import { evaluateBackbone, restoreBackbone } from '@sgfd/training';
import { DECISION_FILE, configKeyOf, decisionKey, latestDecision } from './champion-history';
import { failingClearly } from './failures';
import { loadSnapshotArtifact } from './snapshot-artifact';
import { MODEL_FOLDER } from './student';

export interface ChampionDeps {
  store: ArtifactStore;
}

export function createChampionActivities(deps: ChampionDeps): ChampionActivities {
  return {
    async readChampion(input: ReadChampionInput): Promise<ReadChampionResult> {
      return failingClearly(async () => ({
        latest: await latestDecision(deps.store, input.scheduleId),
        configKey: configKeyOf(input.config, input.codeVersion),
      }));
    },

    async scoreChampion(input: ScoreChampionInput): Promise<ScoreChampionResult> {
      return failingClearly(async () => {
        const { champion, metric } = input;
        const dataset = await loadSnapshotArtifact(deps.store, input.snapshot);
        const { users, items } = dataset.manifest.counts;
        if (users !== champion.counts.users || items !== champion.counts.items) {
          return {
            score: null,
            reason: `it has ${champion.counts.users} users x ${champion.counts.items} items, the new snapshot ${users} x ${items}`,
          };
        }
        Context.current().heartbeat();
        const model = await restoreBackbone(
          dataset,
          champion.config,
          join(await deps.store.openPath(champion.model), MODEL_FOLDER),
        );
        try {
          const valid = evaluateBackbone(dataset, model.backbone, 'valid', {
            maskValidInTest: champion.config.training.maskValidInTest,
          }).mean;
          const score = valid[metric];
          if (score === undefined)
            throw ApplicationFailure.nonRetryable(
              `Metric '${metric}' is not among the validation metrics (${Object.keys(valid).join(', ')})`,
              'ConfigError',
            );
          return { score, reason: null };
        } finally {
          model.dispose();
        }
      });
    },

    async recordDecision({ decision }: RecordDecisionInput): Promise<{ decision: ArtifactRef }> {
      return failingClearly(async () => {
        const stored = await deps.store.withArtifact<ChampionDecision>(
          { kind: 'champion', key: decisionKey(decision.scheduleId, decision.seq) },
          async (staging) => {
            await writeFile(await staging.path(DECISION_FILE), `${JSON.stringify(decision, null, 2)}\n`);
            return decision;
          },
        );
        // A retry of this very activity finds its own decision; another run's decision at this seq is a conflict.
        if (stored.reused && stored.manifest.meta.workflowId !== decision.workflowId) {
          throw ApplicationFailure.nonRetryable(
            `Decision ${decision.seq} of schedule '${decision.scheduleId}' was recorded meanwhile by ${stored.manifest.meta.workflowId}: this run's decision is stale; the next run decides again`,
            'ChampionConflict',
          );
        }
        return { decision: stored.ref };
      });
    },
  };
}
