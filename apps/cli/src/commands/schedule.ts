import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKBONE_OPTION_HELP, SET_OPTION_HELP, collect } from '../config-input';
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import {
  ConfigError,
  SCHEDULED_RETRAIN_WORKFLOW,
  SGFD_MODES,
  UserError,
  WORKFLOW_TASK_QUEUE,
  type ChampionDecision,
  type ScheduledRetrainInput,
  type SgfdMode,
} from '@sgfd/contracts';
import { listChampionHistory } from '@sgfd/activities/champion-history';
import { absoluteStoreLocation, openArtifactStore } from '@sgfd/artifacts';
import { sgfdStateDir } from '@sgfd/tools';
import { emit, keyValues, note } from '../output';
import { parseInteger } from '../program';
import { withClient, withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { DEFAULT_DATA_SEED, datasetSpecFor, runConfigFor } from '../pipeline/run-input';

const loadTraining = () => import('@sgfd/training');
const loadExperiments = () => import('@sgfd/experiments');

class ScheduleError extends UserError {
  override readonly name = 'ScheduleError';
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `1d` -> milliseconds. */
export function parseDuration(name: string) {
  return (value: string): number => {
    const match = /^(\d+)(s|m|h|d)$/.exec(value.trim());
    if (!match || Number(match[1]) === 0)
      throw new InvalidArgumentError(`${name} must be a positive duration like 90s, 30m, 12h or 1d.`);
    return Number(match[1]) * UNITS[match[2]!]!;
  };
}

const OVERLAPS = { skip: ScheduleOverlapPolicy.SKIP, 'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE } as const;
type OverlapName = keyof typeof OVERLAPS;

export interface RetrainScheduleFlags {
  id: string;
  every?: number;
  cron?: string;
  overlap?: OverlapName;
  catchupWindow?: number;
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
}

/** What `sgfd schedule create` sends to Temporal: a Schedule that starts scheduledRetrain with `input`. */
export function retrainScheduleOptions(flags: RetrainScheduleFlags, input: ScheduledRetrainInput): ScheduleOptions {
  if ((flags.every === undefined) === (flags.cron === undefined)) {
    throw new ConfigError('A schedule runs on an interval or on a cron expression', {
      field: '--every / --cron',
      expected: 'exactly one of them',
    });
  }
  return {
    scheduleId: flags.id,
    spec: flags.every !== undefined ? { intervals: [{ every: flags.every }] } : { cronExpressions: [flags.cron!] },
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_RETRAIN_WORKFLOW,
      taskQueue: WORKFLOW_TASK_QUEUE,
      // Temporal appends each action's scheduled time to this id.
      workflowId: `retrain-${flags.id}`,
      args: [input],
    },
    policies: {
      overlap: OVERLAPS[flags.overlap ?? 'skip'],
      catchupWindow: flags.catchupWindow ?? UNITS['h']!,
      pauseOnFailure: flags.pauseOnFailure ?? true,
    },
    state: { paused: flags.paused ?? false, note: flags.note ?? (flags.paused ? 'created paused' : undefined) },
  };
}

interface CreateFlags extends ConnectionFlags {
  id: string;
  every?: number;
  cron?: string;
  source: string;
  dataSeed?: number;
  backbone?: string;
  sgfd?: SgfdMode;
  seed?: number;
  epochs?: number;
  config?: string;
  set: string[];
  metric: string;
  overlap: OverlapName;
  catchupWindow: number;
  pauseOnFailure: boolean;
  paused?: boolean;
}

function artifactRoot(flag: string | undefined): string {
  return absoluteStoreLocation(flag ?? process.env['SGFD_ARTIFACTS'] ?? join(sgfdStateDir(), 'artifacts'));
}

async function championHistory(scheduleId: string, artifacts: string | undefined): Promise<ChampionDecision[]> {
  const root = artifactRoot(artifacts);
  return listChampionHistory(openArtifactStore(root), scheduleId);
}

async function describeSchedule(client: Client, id: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) throw new ScheduleError(`No schedule '${id}': see \`sgfd schedule list\``);
    throw e;
  }
}

/** The error of the schedule's last run when that run failed (what paused it), as the activity said it. */
async function lastRunFailure(client: Client, d: ScheduleDescription): Promise<string | null> {
  const last = d.info.recentActions.at(-1)?.action.workflow;
  if (!last) return null;
  const handle = client.workflow.getHandle(last.workflowId, last.firstExecutionRunId);
  if ((await handle.describe()).status.name !== 'FAILED') return null;
  return handle.result().then(
    () => null,
    (e: unknown) => {
      let cause = e as Error;
      while (cause.cause instanceof Error) cause = cause.cause;
      return `${last.workflowId}: ${cause.message}`;
    },
  );
}

const when = (d: Date | undefined) => (d ? d.toISOString().replace('.000Z', 'Z') : '—');

function scheduleText(
  d: ScheduleDescription,
  champion: ChampionDecision | null,
  failure: string | null = null,
): string {
  const spec = d.spec.intervals?.length
    ? `every ${d.spec.intervals.map((i) => `${Number(i.every) / 1000} s`).join(', ')}`
    : d.spec.calendars?.length
      ? `calendar ${JSON.stringify(d.spec.calendars)}`
      : '(none)';
  const input = (d.action.args?.[0] ?? {}) as Partial<ScheduledRetrainInput>;
  const rows: [string, string | number][] = [
    ['schedule', d.scheduleId],
    ['state', d.state.paused ? `paused${d.state.note ? ` (${d.state.note})` : ''}` : 'active'],
    ['when', spec],
    [
      'policies',
      `overlap ${d.policies.overlap}, catch-up window ${d.policies.catchupWindow / 1000} s, pause on failure ${d.policies.pauseOnFailure}`,
    ],
    [
      'runs',
      `${d.info.numActionsTaken} taken, ${d.info.numActionsSkippedOverlap} skipped (overlap), ${d.info.runningActions.length} running`,
    ],
    ['next', d.info.nextActionTimes.slice(0, 3).map(when).join(', ') || '—'],
    [
      'training',
      input.config
        ? `${input.config.backbone}, sgfd ${input.config.sgfd.mode}, seed ${input.config.training.seed}`
        : '?',
    ],
    ['source', input.dataset ? JSON.stringify(input.dataset) : '?'],
  ];
  for (const a of d.info.recentActions.slice(-3))
    rows.push(['recent', `${when(a.takenAt)}  ${a.action.workflow.workflowId}`]);
  if (failure) rows.push(['last run failed', failure]);
  if (champion?.champion) {
    const c = champion.champion;
    rows.push([
      'champion',
      `${c.model.uri} (since ${c.since}, valid ${champion.metric} ${(c.metrics.valid[champion.metric] ?? NaN).toFixed(4)})`,
    ]);
  } else rows.push(['champion', 'none yet']);
  return keyValues(rows);
}

function historyText(history: ChampionDecision[]): string {
  if (history.length === 0)
    return 'no decisions yet (the schedule has not run, or its artifacts are elsewhere: --artifacts)';
  return history
    .map(
      (d) =>
        `#${d.seq}  ${d.decidedAt}  ${d.outcome.padEnd(8)}  ${d.reason}${d.outcome === 'promoted' ? `\n      champion ${d.champion!.model.uri}` : ''}`,
    )
    .join('\n');
}

/** `sgfd schedule ...`: scheduled retraining with Temporal Schedules. */
/** `sgfd schedule create`: a Temporal Schedule that starts scheduledRetrain. */
function registerCreate(schedule: Command): void {
  withConnectionOptions(
    schedule
      .command('create')
      .description(
        'create a schedule that re-ingests --source and retrains; a new model replaces the champion only if it beats it on validation',
      )
      .requiredOption('--id <name>', 'schedule id (also names the champion and its history)')
      .option('--every <duration>', 'interval, e.g. 1d, 12h, 30m', parseDuration('--every'))
      .option('--cron <expr>', 'cron expression, e.g. "0 3 * * *"')
      .requiredOption(
        '--source <preset|dir>',
        'an MMRec folder, a Parquet folder, a snapshot folder or a synthetic preset',
      )
      .option(
        '--data-seed <n>',
        `seed of the synthetic generator for a preset (default ${DEFAULT_DATA_SEED})`,
        parseInteger('--data-seed'),
      )
      .option('--backbone <name>', BACKBONE_OPTION_HELP)
      .addOption(new Option('--sgfd <mode>', 'SGFD mode').choices([...SGFD_MODES]))
      .option('--seed <n>', 'training seed', parseInteger('--seed'))
      .option('--epochs <n>', 'epoch limit of the student', parseInteger('--epochs', 1))
      .option('--config <file>', 'a JSON run config; flags override it')
      .option('--set <key=value>', SET_OPTION_HELP, collect, [])
      .option('--metric <name>', 'validation metric a new model must beat the champion on', 'recall@20')
      .addOption(
        new Option('--overlap <policy>', 'when a run is still going at the next time')
          .choices(Object.keys(OVERLAPS))
          .default('skip'),
      )
      .option(
        '--catchup-window <duration>',
        'runs missed while the server was down are still taken within this window',
        parseDuration('--catchup-window'),
        UNITS['h'],
      )
      .option('--no-pause-on-failure', 'keep the schedule running after a failed run (default: pause it)')
      .option('--paused', 'create it paused'),
  ).action(async (opts: CreateFlags, cmd: Command) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.id))
      throw new ConfigError('Invalid schedule id', {
        field: '--id',
        expected: 'letters, digits, "_", "." or "-"',
        found: opts.id,
      });
    const { REPORTED_METRICS } = await loadExperiments();
    if (!REPORTED_METRICS.includes(opts.metric)) {
      throw new ConfigError(`Unknown metric '${opts.metric}'`, {
        field: '--metric',
        expected: `one of ${REPORTED_METRICS.join(', ')}`,
      });
    }
    const dataset = await datasetSpecFor(opts.source, opts.dataSeed);
    const config = await runConfigFor(opts);
    const { codeVersion } = await loadTraining();
    const input: ScheduledRetrainInput = {
      scheduleId: opts.id,
      dataset,
      config,
      codeVersion: codeVersion(),
      metric: opts.metric,
    };
    const options = retrainScheduleOptions({ ...opts, id: opts.id }, input);
    await withClient(opts, async ({ client }) => {
      await client.schedule.create(options);
      const d = await client.schedule.getHandle(opts.id).describe();
      note(cmd, `created schedule ${opts.id}`);
      emit(cmd, { scheduleId: opts.id, paused: d.state.paused, nextActionTimes: d.info.nextActionTimes, input }, () =>
        scheduleText(d, null),
      );
    });
  });
}

/** `sgfd schedule list`. */
function registerList(schedule: Command): void {
  withConnectionOptions(schedule.command('list').description('every schedule of the namespace')).action(
    async (opts: ConnectionFlags, cmd: Command) => {
      await withClient(opts, async ({ client }) => {
        const out: { scheduleId: string; paused: boolean; note?: string; next: Date[]; workflowType: string }[] = [];
        for await (const s of client.schedule.list()) {
          out.push({
            scheduleId: s.scheduleId,
            paused: s.state.paused,
            note: s.state.note,
            next: s.info.nextActionTimes,
            workflowType: s.action?.type === 'startWorkflow' ? s.action.workflowType : '?',
          });
        }
        out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
        emit(cmd, out, () =>
          out.length
            ? out
                .map(
                  (s) =>
                    `${s.scheduleId}  ${s.paused ? 'paused' : 'active'}  next ${when(s.next[0])}  (${s.workflowType})`,
                )
                .join('\n')
            : 'no schedules',
        );
      });
    },
  );
}

/** `sgfd schedule describe ID`: state, timing, recent runs, champion. */
function registerDescribe(schedule: Command): void {
  withConnectionOptions(
    schedule
      .command('describe')
      .description("a schedule's state, timing, recent runs and current champion")
      .argument('<id>', 'schedule id')
      .option(
        '--artifacts <dir|uri>',
        'artifact store the workers use (a folder, file:// or s3://bucket/prefix; env SGFD_ARTIFACTS; default <repo>/.sgfd/artifacts)',
      ),
  ).action(async (id: string, opts: ConnectionFlags & { artifacts?: string }, cmd: Command) => {
    await withClient(opts, async ({ client }) => {
      const d = await describeSchedule(client, id);
      const latest = (await championHistory(id, opts.artifacts)).at(-1) ?? null;
      const failure = await lastRunFailure(client, d);
      const json = {
        scheduleId: d.scheduleId,
        spec: d.spec,
        action: d.action,
        policies: d.policies,
        state: d.state,
        info: d.info,
      };
      emit(cmd, { ...json, champion: latest?.champion ?? null, lastRunFailure: failure }, () =>
        scheduleText(d, latest, failure),
      );
    });
  });
}

/** `sgfd schedule pause ID` and `unpause ID`. */
function registerPauseUnpause(schedule: Command): void {
  for (const [name, description] of [
    ['pause', 'stop a schedule from firing (runs already going continue)'],
    ['unpause', 'let a paused schedule fire again'],
  ] as const) {
    withConnectionOptions(
      schedule
        .command(name)
        .description(description)
        .argument('<id>', 'schedule id')
        .option('--note <text>', 'why (shown by describe)'),
    ).action(async (id: string, opts: ConnectionFlags & { note?: string }, cmd: Command) => {
      await withClient(opts, async ({ client }) => {
        await describeSchedule(client, id);
        const handle = client.schedule.getHandle(id);
        if (name === 'pause') await handle.pause(opts.note ?? 'paused with sgfd schedule pause');
        else await handle.unpause(opts.note ?? 'unpaused with sgfd schedule unpause');
        emit(cmd, { scheduleId: id, paused: name === 'pause' }, () => `schedule ${id} ${name}d`);
      });
    });
  }
}

/** `sgfd schedule trigger ID`. */
function registerTrigger(schedule: Command): void {
  withConnectionOptions(
    schedule
      .command('trigger')
      .description('run a schedule now (its overlap policy applies: a run already going means this one is skipped)')
      .argument('<id>', 'schedule id'),
  ).action(async (id: string, opts: ConnectionFlags, cmd: Command) => {
    await withClient(opts, async ({ client }) => {
      const d = await describeSchedule(client, id);
      await client.schedule.getHandle(id).trigger(d.policies.overlap);
      emit(
        cmd,
        { scheduleId: id, triggered: true, overlap: d.policies.overlap },
        () => `triggered schedule ${id} (overlap policy ${d.policies.overlap})`,
      );
    });
  });
}

/** `sgfd schedule delete ID`. */
function registerDelete(schedule: Command): void {
  withConnectionOptions(
    schedule
      .command('delete')
      .description('delete a schedule (its runs, champion and history stay)')
      .argument('<id>', 'schedule id'),
  ).action(async (id: string, opts: ConnectionFlags, cmd: Command) => {
    await withClient(opts, async ({ client }) => {
      await describeSchedule(client, id);
      await client.schedule.getHandle(id).delete();
      emit(cmd, { scheduleId: id, deleted: true }, () => `deleted schedule ${id}`);
    });
  });
}

/** `sgfd schedule history ID`: the champion decisions. */
function registerHistory(schedule: Command): void {
  schedule
    .command('history')
    .description("a schedule's champion decisions, oldest first: no-op, promoted (new champion) or kept, and why")
    .argument('<id>', 'schedule id')
    .option(
      '--artifacts <dir|uri>',
      'artifact store the workers use (a folder, file:// or s3://bucket/prefix; env SGFD_ARTIFACTS; default <repo>/.sgfd/artifacts)',
    )
    .action(async (id: string, opts: { artifacts?: string }, cmd: Command) => {
      const history = await championHistory(id, opts.artifacts);
      emit(cmd, history, () => historyText(history));
    });
}

/** `sgfd schedule create|list|describe|pause|unpause|trigger|delete|history`. */
export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('scheduled retraining: a Temporal Schedule that retrains and keeps the best model as champion');
  registerCreate(schedule);
  registerList(schedule);
  registerDescribe(schedule);
  registerPauseUnpause(schedule);
  registerTrigger(schedule);
  registerDelete(schedule);
  registerHistory(schedule);
}
