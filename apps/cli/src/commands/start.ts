import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DatasetSpec, RunConfigInput, RunSummary, SgfdMode, TrainPipelineInput } from '@sgfd/contracts';
import { TRAIN_PIPELINE_WORKFLOW, WORKFLOW_TASK_QUEUE } from '@sgfd/contracts';
import { emit, note } from '../output';
import { connect, type Connected } from '../pipeline/connect';
import { followRuns, LiveLines } from '../pipeline/follow';
import { comparisonTable, duration } from '../pipeline/progress-view';
import { evaluationDirOf, webUiLink } from '../pipeline/links';
import { startLocalStack, untilSignal, type LocalStack } from '../pipeline/local-stack';
import { existsSync } from 'node:fs';
import { sgfdHome } from '../paths';
import { DEFAULT_DATA_SEED, RAW_CATALOGUE_FILE, datasetSpecFor } from '../pipeline/run-input';
import { recommendationSampleOf } from './results';

/**
 * The demo `npm start` runs: plain VBPR, the control (SGFD's students, no distillation) and VBPR + SGFD
 * (two-stage) on the synthetic `office` preset
 * (4,874 users, 2,406 items, ~53k interactions, 54 categories). Epoch caps keep both runs, trained side by
 * side on two cores, within the 10-minute budget (see README, "Running the pipeline"); a full run uses
 * the defaults (1,000 epochs, patience 20) through `sgfd run`.
 */
export const OFFICE_DEMO: RunConfigInput = {
  backbone: 'vbpr',
  training: { epochs: 12, patience: 4, learningRate: 0.01, seed: 2023 },
  sgfd: { teacher: { epochs: 10, patience: 4 } },
};
/** Plain VBPR, the same students without distillation (the authors' control), and SGFD. */
const ARMS: { mode: SgfdMode; label: string }[] = [
  { mode: 'off', label: 'VBPR' },
  { mode: 'control', label: 'VBPR+students (control)' },
  { mode: 'two-stage', label: 'VBPR+SGFD' },
];

/** The dataset of the demo: the synthetic office preset, or (--raw) the raw demo catalogue, written once. */
async function demoDataset(raw: boolean, say: (line: string) => void): Promise<{ name: string; dataset: DatasetSpec }> {
  if (!raw) return { name: 'office', dataset: { kind: 'synthetic', preset: 'office', seed: DEFAULT_DATA_SEED } };
  const dir = join(sgfdHome(), 'demo-catalogue');
  if (!existsSync(join(dir, RAW_CATALOGUE_FILE))) {
    say(`  writing the raw demo catalogue (300 items with string ids, English titles, PNGs) into ${dir}`);
    const { writeDemoCatalogue } = await import('@sgfd/extract');
    await writeDemoCatalogue(dir, { size: 'tiny', seed: DEFAULT_DATA_SEED });
  }
  return { name: 'shop', dataset: await datasetSpecFor(dir) };
}

async function startRuns(
  connected: Connected,
  stamp: string,
  demo: { name: string; dataset: DatasetSpec },
): Promise<{ input: TrainPipelineInput; label: string }[]> {
  const { codeVersion, resolveRunConfig } = await import('@sgfd/training');
  const runs = ARMS.map(({ mode, label }) => {
    const config = resolveRunConfig({ ...OFFICE_DEMO, sgfd: { ...OFFICE_DEMO.sgfd, mode } }, 'npm start config');
    const input: TrainPipelineInput = {
      runId: `start-vbpr-${mode}-${demo.name}-${stamp}`,
      dataset: demo.dataset,
      config,
      codeVersion: codeVersion(),
    };
    return { input, label };
  });
  for (const { input } of runs) {
    await connected.client.workflow.start(TRAIN_PIPELINE_WORKFLOW, {
      taskQueue: WORKFLOW_TASK_QUEUE,
      workflowId: input.runId,
      args: [input],
    });
  }
  return runs;
}

/** Best-effort cancellation of the demo's runs. */
async function cancelRuns(connected: Connected | undefined, runs: { input: TrainPipelineInput }[]): Promise<void> {
  if (!connected) return;
  await Promise.all(
    runs.map((r) =>
      connected.client.workflow
        .getHandle(r.input.runId)
        .cancel()
        .catch(() => undefined),
    ),
  );
}

/**
 * The two gains the demo prints, each with its paired t-test across the test users (one seed per arm, so
 * users are the only pairing there is; seeds need `suites/office-attribution.yaml`): SGFD over plain VBPR,
 * and SGFD over the control, which is what distillation itself adds.
 */
async function attributionLines(summaries: RunSummary[], labels: string[]): Promise<string[]> {
  const { EVALUATION_FILES } = await import('@sgfd/activities');
  const { compareAcrossUsers, formatGain, formatP } = await import('@sgfd/experiments');
  const metric = 'recall@20';
  const perUser = await Promise.all(
    summaries.map(async (s) => {
      const dir = evaluationDirOf(s);
      if (!dir) return null;
      const stored = JSON.parse(await readFile(join(dir, EVALUATION_FILES.perUserTest), 'utf8')) as {
        users: number[];
        metrics: Record<string, number[]>;
      };
      return { users: stored.users, values: stored.metrics[metric]! };
    }),
  );
  const [plain, control, sgfd] = perUser;
  if (!plain || !control || !sgfd) return ['(gains: the evaluation artifacts are not on this machine)'];
  const line = (ours: number, against: number) => {
    const c = compareAcrossUsers(perUser[ours]!, perUser[against]!);
    return `${labels[ours]} over ${labels[against]}: test ${metric} ${c.baselineMean.toFixed(4)} -> ${c.mean.toFixed(4)}, ${formatGain(c.relativeGain)} (paired t-test over ${c.users} test users, ${formatP(c.pValue)})`;
  };
  return [
    `gains (one seed; across seeds: sgfd suite run suites/office-attribution.yaml):`,
    `  ${line(2, 0)}`,
    `  ${line(1, 0)}  <- the students' form alone`,
    `  ${line(2, 1)}  <- what distillation adds`,
  ];
}

/** `sgfd start` (what `npm start` runs): server, workers, VBPR vs VBPR+SGFD on office, results with the gain. */
export function register(program: Command): void {
  program
    .command('start')
    .description(
      'the demo: local Temporal server + five workers, then plain VBPR, the control and VBPR+SGFD on the synthetic office preset (--raw: on the raw demo catalogue)',
    )
    .option(
      '--artifacts <dir|uri>',
      'artifact store of the workers (a folder, file:// or s3://bucket/prefix; default <repo>/.sgfd/artifacts)',
    )
    .option(
      '--raw',
      'start from a raw catalogue instead (string ids, English titles, PNGs): extract -> ingest -> ... -> recommendations by its ids',
    )
    .action(async (opts: { artifacts?: string; raw?: boolean }, cmd: Command) => {
      const started = Date.now();
      const say = (line: string) => note(cmd, line);
      const signal = untilSignal();
      let stack: LocalStack | undefined;
      let connected: Connected | undefined;
      let runs: { input: TrainPipelineInput; label: string }[] = [];
      try {
        say('[1/3] local Temporal server and workers');
        // Two student workers: the plain run's student trains while the SGFD run's teacher does, on two cores.
        stack = await startLocalStack({
          artifacts: opts.artifacts,
          extraWorkers: { student: 1 },
          note: (l) => say(`  ${l}`),
          // Submitted while the workers start (about 10 s on two cores): ingestion begins once its worker polls.
          whileWorkersStart: async (target) => {
            connected = await connect({ address: target.address, namespace: target.namespace });
            const demo = await demoDataset(opts.raw === true, say);
            say(
              `[2/3] training on '${demo.name}': ${ARMS.map((a) => a.label).join(' and ')} (${opts.raw ? 'extract -> ' : ''}ingest -> teacher -> student -> evaluate)`,
            );
            const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
            runs = await startRuns(connected, stamp, demo);
            for (const { input } of runs) {
              const ui = await webUiLink(target, input.runId);
              say(`  ${input.runId}${ui ? `  ${ui}` : ''}`);
            }
          },
        }).catch(async (e: unknown) => {
          // The workers did not come up: the runs already submitted would wait for them forever.
          await cancelRuns(connected, runs);
          throw e;
        });
        const follow = followRuns(
          connected!.client,
          runs.map((r) => ({ workflowId: r.input.runId, label: r.label })),
          new LiveLines(process.stderr, 15_000),
        );
        const outcome = await Promise.race([
          follow.then((s) => ({ summaries: s })),
          signal.promise.then((s) => ({ signal: s })),
        ]);
        if ('signal' in outcome) {
          say(`${outcome.signal}: cancelling the runs…`);
          await cancelRuns(connected, runs);
          await follow.catch(() => undefined);
          return;
        }
        const summaries: RunSummary[] = outcome.summaries;
        say(`[3/3] results (test split, full ranking; ${duration((Date.now() - started) / 1000)} in all)`);
        const table = comparisonTable(
          summaries.map((summary, i) => ({ label: runs[i]!.label, summary })),
          undefined,
          false,
        );
        const gains = await attributionLines(
          summaries,
          runs.map((r) => r.label),
        );
        const lastDir = evaluationDirOf(summaries[summaries.length - 1]!);
        const sample = lastDir ? await recommendationSampleOf(lastDir) : [];
        emit(cmd, { runs: summaries, seconds: (Date.now() - started) / 1000 }, () =>
          [
            '',
            table,
            '',
            ...gains,
            '',
            ...summaries.map(
              (s, i) => `${runs[i]!.label} report: ${evaluationDirOf(s) ?? s.artifacts.evaluation.uri}/report.md`,
            ),
            ...(opts.raw && sample.length
              ? [`\n${runs[runs.length - 1]!.label} recommendations (ids of the catalogue):`]
              : []),
            ...(opts.raw ? sample.map(({ user, items }) => `  ${user}: ${items.join(', ')}`) : []),
          ].join('\n'),
        );
      } finally {
        signal.dispose();
        await connected?.close();
        if (stack) {
          await stack.stop();
          if (stack.uiUrl) {
            say(`\nTemporal Web UI: ${stack.uiUrl} (the server keeps running; stop it with \`sgfd server stop\`)`);
          }
        }
      }
    });
}
