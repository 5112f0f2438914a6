// What `sgfd recommend`, `serve` and `model export` accept as a model, resolved to a scoring bundle folder:
// a bundle folder, an evaluation artifact folder, a `sgfd train` run folder (its bundle is computed once,
// the one step that needs the training code), a schedule id (its current champion) or a pipeline run id.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DatasetError, UserError, type ChampionRecord, type RunManifest } from '@sgfd/contracts';
import { latestDecision } from '@sgfd/activities/champion-history';
import { openArtifactStore } from '@sgfd/artifacts';
import { SCORING_FILE, writeScoringBundle } from '@sgfd/serving';
import { prepareTensorflowEngine } from '@sgfd/tools';
import { withClient, type ConnectionFlags } from '../pipeline/connect';
import { describeRun } from '../pipeline/runs';
import { artifactRoot } from './artifact-root';

/** Folder of the scoring bundle inside an evaluation artifact or a run folder (activities' SCORING_FOLDER). */
const SCORING_FOLDER = 'scoring';

export interface ModelRefOptions extends ConnectionFlags {
  artifacts?: string;
  /** Snapshot root, for run folders of `sgfd train`. */
  root: string;
  log?: (line: string) => void;
}

export interface ResolvedModel {
  bundleDir: string;
  /** How it was found: 'bundle' | 'evaluation' | 'run folder' | 'schedule champion' | 'pipeline run'. */
  via: string;
}

class ModelNotFoundError extends UserError {
  override readonly name = 'ModelNotFoundError';
}

function localDir(uri: string): string {
  if (!uri.startsWith('file:')) throw new ConfigError(`Only file:// artifacts can be read here, got ${uri}`);
  return fileURLToPath(uri);
}

function bundleOfEvaluation(evaluationDir: string, what: string): string {
  const dir = join(evaluationDir, SCORING_FOLDER);
  if (!existsSync(join(dir, SCORING_FILE))) {
    throw new DatasetError(
      `${what}'s evaluation has no scoring bundle (it was evaluated by an older version; evaluate it again)`,
      { file: dir, expected: `${SCORING_FILE} and the representations`, found: 'nothing' },
    );
  }
  return dir;
}

/** The scoring bundle of the champion record, for a schedule. */
export function championBundle(champion: ChampionRecord, scheduleId: string): string {
  return bundleOfEvaluation(localDir(champion.evaluation.uri), `schedule ${scheduleId}'s champion`);
}

/** Computes the bundle of a `sgfd train` run folder into <run>/scoring (once; the training code runs only here). */
async function bundleOfRunFolder(runDir: string, options: ModelRefOptions): Promise<string> {
  const dir = join(runDir, SCORING_FOLDER);
  if (existsSync(join(dir, SCORING_FILE))) return dir;
  const manifestPath = join(runDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as RunManifest;
  await prepareTensorflowEngine({ log: options.log ?? (() => undefined) });
  const { findSnapshot, loadSnapshot, originalIds } = await import('@sgfd/data');
  const { loadRunModel } = await import('@sgfd/training');
  const { initBackend } = await import('@sgfd/tensor');
  await initBackend();
  const snapshotDir = await findSnapshot(manifest.datasetId, options.root);
  const dataset = await loadSnapshot(snapshotDir);
  const ids = await originalIds(snapshotDir);
  const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8')) as {
    backbone: string;
    mode: string;
    test: Record<string, number>;
  };
  const model = await loadRunModel(runDir, dataset);
  try {
    options.log?.(`computing the scoring bundle of ${runDir} (once)`);
    await writeScoringBundle(
      dir,
      model.backbone.representations(),
      dataset.splits,
      {
        backbone: metrics.backbone,
        sgfd: metrics.mode,
        run: manifest.runId,
        trainedAt: manifest.finishedAt ?? manifest.startedAt,
        datasetId: manifest.datasetId,
        test: metrics.test,
      },
      ids,
    );
  } finally {
    model.dispose();
  }
  return dir;
}

export async function resolveModel(ref: string, options: ModelRefOptions): Promise<ResolvedModel> {
  const path = resolve(ref);
  if (existsSync(path)) {
    if (existsSync(join(path, SCORING_FILE))) return { bundleDir: path, via: 'bundle' };
    if (existsSync(join(path, SCORING_FOLDER, SCORING_FILE)))
      return { bundleDir: join(path, SCORING_FOLDER), via: 'evaluation' };
    if (existsSync(join(path, 'manifest.json')) && existsSync(join(path, 'model')))
      return { bundleDir: await bundleOfRunFolder(path, options), via: 'run folder' };
    throw new DatasetError('Not a model folder', {
      file: path,
      expected: `a scoring bundle (${SCORING_FILE}), an evaluation artifact or a run folder of \`sgfd train\``,
      found: 'none of them',
    });
  }
  const decision = await latestDecision(openArtifactStore(artifactRoot(options.artifacts)), ref);
  if (decision) {
    if (!decision.champion) throw new ModelNotFoundError(`schedule ${ref} has no champion yet`);
    return { bundleDir: championBundle(decision.champion, ref), via: 'schedule champion' };
  }
  return withClient(options, async (connected) => {
    const { handle, description } = await describeRun(connected, ref).catch(() => {
      throw new ModelNotFoundError(
        `'${ref}' is not a model folder, a schedule with a champion in ${artifactRoot(options.artifacts)}, or a run on the Temporal server`,
      );
    });
    if (description.status.name !== 'COMPLETED')
      throw new ModelNotFoundError(`run ${ref} is ${description.status.name}, not completed`);
    const summary = await handle.result();
    return {
      bundleDir: bundleOfEvaluation(localDir(summary.artifacts.evaluation.uri), `run ${ref}`),
      via: 'pipeline run',
    };
  });
}
