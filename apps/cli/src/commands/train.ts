import { existsSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKBONE_OPTION_HELP, SET_OPTION_HELP, collect, mergeRunConfig } from '../config-input';
import { ConfigError, needsCategories, SGFD_MODES, type RunConfigInput, type SgfdMode } from '@sgfd/contracts';
import { prepareTensorflowEngine } from '@sgfd/tools';
import { emit, formatNumber, globalsOf, keyValues, note } from '../output';
import { defaultDatasetRoot, sgfdHome } from '../paths';
import { parseInteger } from '../program';

// Training pulls in tfjs; load it only when the command runs so other commands start fast.
const loadTraining = () => import('@sgfd/training');
const loadData = () => import('@sgfd/data');

interface TrainFlags {
  backbone?: string;
  sgfd?: string;
  config?: string;
  set: string[];
  root: string;
  out?: string;
  seed?: number;
  epochs?: number;
  patience?: number;
  batchSize?: number;
  lr?: number;
}

function parsePositive(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number.`);
    return n;
  };
}

/** The run config: --config file, then the flags, then every --set key=value; the backbone defaults to VBPR. */
export async function buildConfig(flags: TrainFlags): Promise<RunConfigInput> {
  const config = await mergeRunConfig(flags);
  config['backbone'] ??= 'vbpr';
  return config as RunConfigInput;
}

/** SGFD's teacher classifies items into categories: it needs at least two, checked before a run directory exists. */
function requireCategoriesForSgfd(nCategories: number | null, mode: string, snapshot: string): void {
  if (!needsCategories(mode as SgfdMode) || (nCategories !== null && nCategories >= 2)) return;
  throw new ConfigError(
    `SGFD (${mode}) needs item categories, and this snapshot has ${nCategories === null ? 'none' : 'only one'}`,
    {
      file: snapshot,
      field: 'sgfd.mode',
      expected: 'a snapshot with at least 2 categories, or --sgfd off',
      found: nCategories === null ? 'no categories' : '1 category',
    },
  );
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function metricsTable(name: string, metrics: Record<string, number>): string {
  const keys = ['recall@10', 'recall@20', 'ndcg@10', 'ndcg@20', 'precision@20', 'map@20', 'hit@20'].filter(
    (k) => k in metrics,
  );
  return `${name}\n${keyValues(keys.map((k) => [`  ${k}`, formatNumber(metrics[k])]))}`;
}

/** `sgfd train`: one backbone, one schedule, in this process (for debugging; pipelines run on Temporal). */
export function register(program: Command): void {
  program
    .command('train')
    .description('train a backbone (optionally with SGFD) on a snapshot here, and write metrics, curves and the model')
    .argument('<snapshot>', 'snapshot directory, or its id (prefix) under --root')
    .option('--backbone <name>', `${BACKBONE_OPTION_HELP} (default vbpr)`)
    .addOption(
      new Option(
        '--sgfd <mode>',
        'SGFD schedule (default two-stage; off trains the plain backbone, control the students without distillation)',
      ).choices([...SGFD_MODES]),
    )
    .option(
      '--config <file>',
      'run config JSON (RunConfig: backbone, backboneParams, sgfd, training); flags override it',
    )
    .option('--set <key=value>', SET_OPTION_HELP, collect, [])
    .option('--seed <n>', 'training seed', parseInteger('--seed'))
    .option('--epochs <n>', 'maximum epochs', parseInteger('--epochs', 1))
    .option(
      '--patience <n>',
      'early-stopping patience (evaluations without improvement)',
      parseInteger('--patience', 1),
    )
    .option('--batch-size <n>', 'training batch size', parseInteger('--batch-size', 1))
    .option('--lr <x>', 'learning rate', parsePositive('--lr'))
    .option('--root <dir>', 'snapshot root for ids', defaultDatasetRoot())
    .option(
      '--out <dir>',
      'run directory (default <SGFD_HOME>/runs/<hash of snapshot and config>); an existing one resumes',
    )
    .action(async (ref: string, flags: TrainFlags, cmd: Command) => {
      const { findSnapshot, loadSnapshot } = await loadData();
      const { trainRun, resolveRunConfig, fingerprint, RUN_FILES } = await loadTraining();
      await prepareTensorflowEngine({ log: (line) => note(cmd, line) });
      const config = resolveRunConfig(await buildConfig(flags), flags.config ?? 'command-line config');
      const dataset = await loadSnapshot(await findSnapshot(ref, flags.root));
      requireCategoriesForSgfd(dataset.nCategories, config.sgfd.mode, dataset.dir ?? ref);
      const outDir =
        flags.out ?? join(sgfdHome(), 'runs', fingerprint({ dataset: dataset.manifest.id, config }).slice(0, 16));
      note(
        cmd,
        `training ${config.backbone} (sgfd ${config.sgfd.mode}) on ${dataset.manifest.id.slice(0, 12)} -> ${outDir}`,
      );

      const controller = new AbortController();
      const interrupt = () =>
        controller.abort(
          new ConfigError(`Interrupted; run the same command (or --out ${outDir}) to resume from the last checkpoint`),
        );
      process.once('SIGINT', interrupt);
      const human = !globalsOf(cmd).json;
      const outDirExisted = existsSync(outDir);
      const tty = process.stderr.isTTY === true;
      try {
        const result = await trainRun(dataset, config, {
          outDir,
          signal: controller.signal,
          onProgress: (e) => {
            if (!human) return;
            if (e.type === 'batch' && tty)
              process.stderr.write(`\r  ${e.stage} epoch ${e.epoch}: batch ${e.batch}/${e.batches}\x1b[K`);
            else if (e.type === 'resumed')
              process.stderr.write(`${tty ? '\r\x1b[K' : ''}resumed ${e.stage} from epoch ${e.epoch}\n`);
            else if (e.type === 'epoch') {
              const valid = e.valid ? `  ${e.metric} ${formatNumber(e.valid[e.metric])}` : '';
              const best = `  best ${formatNumber(e.bestScore)} @${e.bestEpoch}`;
              const line = `${e.stage} epoch ${e.epoch}/${e.maxEpochs}  loss ${formatNumber(e.loss['total'])}${valid}${best}  ${duration(e.elapsedMs)}, early stop in <= ${duration(e.etaIfNoImprovementMs)}`;
              process.stderr.write(`${tty ? '\r\x1b[K' : ''}${line}\n`);
            }
          },
        });
        const { metrics } = result;
        emit(cmd, { outDir, ...metrics, manifest: result.manifest }, () =>
          [
            keyValues([
              ['run', result.manifest.runId],
              ['backbone', `${metrics.backbone} (sgfd ${metrics.mode})`],
              [
                'best epoch',
                `${metrics.bestEpoch} of ${metrics.epochsRun}${metrics.stoppedEarly ? ' (early stop)' : ''}`,
              ],
              ...(metrics.teacher
                ? ([
                    ['teacher accuracy', formatNumber(metrics.teacher.holdoutAccuracy)],
                    ...Object.entries(metrics.teacher.probe ?? {}).map(([m, p]): [string, string] => [
                      `  ${m}: teacher / ridge probe`,
                      `${formatNumber(metrics.teacher!.perModality[m as 'image']!)} / ${formatNumber(p!.accuracy)}`,
                    ]),
                  ] as [string, string][])
                : []),
              ['backend', result.manifest.backend],
            ]),
            metricsTable('valid (selected epoch)', metrics.valid),
            metricsTable('test', metrics.test),
            `popularity baseline recall@20: valid ${formatNumber(metrics.popularity.valid['recall@20'])}, test ${formatNumber(metrics.popularity.test['recall@20'])}`,
            `files: ${[RUN_FILES.metrics, RUN_FILES.curveCsv, RUN_FILES.curveSvg, `${RUN_FILES.model}/`, RUN_FILES.manifest].map((f) => join(outDir, f)).join(', ')}`,
          ].join('\n'),
        );
      } catch (err) {
        // A run that failed before writing anything leaves no empty directory behind (rmdir refuses a non-empty one).
        if (!outDirExisted) await rmdir(outDir).catch(() => undefined);
        throw err;
      } finally {
        process.removeListener('SIGINT', interrupt);
      }
    });
}
