// The process around a stage's activities: flags and env, connection, artifact store, the Temporal worker
// (and the workflow worker where this stage hosts the workflows), structured logs, graceful shutdown.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { BUILD_INFO, TASK_QUEUES, WORKFLOW_TASK_QUEUE, type Stage } from '@sgfd/contracts';
import { absoluteStoreLocation, openArtifactStore, type ArtifactStore } from '@sgfd/artifacts';
import { initBackend } from '@sgfd/tensor';
import { signalWorkflowProgress, type ProgressSink } from '../progress-sink';
import { prebuiltWorkflowBundle, type WorkflowBundleSource } from './bundle-cache';
import { resolveTemporalTarget, unreachableMessage, type LocalServerLookup, type TemporalTarget } from './connection';
import { createLogLine, type LogLine } from './log';

export interface StageWorkerDeps {
  store: ArtifactStore;
  progress: ProgressSink;
}

export interface StageWorkerSpec {
  stage: Stage;
  createActivities(deps: StageWorkerDeps): object;
  /**
   * Set on the one worker app that hosts the workflows (WORKFLOW_TASK_QUEUE): their sources (bundled on
   * first start, then cached), or the bundle `npm run build` made beside a worker in dist/.
   */
  workflows?: WorkflowBundleSource | { codePath: string };
  /** Concurrent activities by default: 1 for CPU-bound training (one core each), more for I/O-bound stages. */
  defaultMaxActivities: number;
  /** How long in-flight activities may finish after SIGINT/SIGTERM before they are cancelled (a cancelled
   * training keeps its checkpoint and resumes on another worker). */
  shutdownGraceMs: number;
  /** Training and evaluation need the tensor backend; ingestion does not. */
  needsTensorBackend: boolean;
  /**
   * This machine's local state: `stateDir` holds the default artifact root (<stateDir>/artifacts) and the
   * workflow bundle cache (`sgfdStateDir()`: SGFD_HOME, else <checkout>/.sgfd, else ./.sgfd for a bundle),
   * its local dev server, and how it builds the native tensor engine on first use (before the backend is
   * chosen).
   */
  checkout: { stateDir: string; localServer?: LocalServerLookup; prepareTensorEngine?: () => Promise<void> };
}

const command = (stage: Stage) =>
  BUILD_INFO ? `node dist/worker-${stage}.mjs` : `node --import tsx apps/worker-${stage}/src/main.ts`;

const usage = (spec: StageWorkerSpec) => `usage: ${command(spec.stage)} [options]
Runs the ${spec.stage} activities on task queue ${TASK_QUEUES[spec.stage]}${spec.workflows ? ` and hosts the workflows on ${WORKFLOW_TASK_QUEUE}` : ''}.
  --address HOST:PORT        Temporal front end (env TEMPORAL_ADDRESS; default: the local dev server recorded in $SGFD_HOME, else 127.0.0.1:7233)
  --namespace NS             (env TEMPORAL_NAMESPACE; default: default)
  --artifacts DIR|file://DIR|s3://BUCKET/PREFIX
                             artifact store shared by all workers (env SGFD_ARTIFACTS; default $SGFD_HOME/artifacts,
                             SGFD_HOME default ${BUILD_INFO ? './.sgfd' : '<checkout>/.sgfd'};
                             s3: endpoint, region, credentials from the standard AWS variables and config files)
  --max-activities N         activities run at once (default ${spec.defaultMaxActivities})${spec.workflows ? '\n  --max-workflow-tasks N     workflow tasks run at once (default 10)' : ''}
  -h, --help
SIGINT/SIGTERM stop polling, let running activities finish for ${spec.shutdownGraceMs / 1000} s, then cancel them (they are retried elsewhere).`;

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

class UsageError extends Error {}

type WorkerFlags = ReturnType<typeof parseFlags>;

/** The two connections a worker holds: the SDK's native one for polling, a client one for signals. */
interface TemporalConnections {
  native: NativeConnection;
  client: Connection;
}

/** Runs the worker until SIGINT/SIGTERM; resolves to the process exit code. */
export async function runStageWorker(
  spec: StageWorkerSpec,
  argv = process.argv.slice(2),
  env = process.env,
): Promise<number> {
  const name = `worker-${spec.stage}`;
  const log = createLogLine(name);
  const flags = readFlags(spec, argv);
  if ('exitCode' in flags) return flags.exitCode;
  const logger = installSdkLogger(log);
  const target = await resolveTemporalTarget(flags, spec.checkout.localServer, env);
  const artifacts = flags.artifacts ?? env['SGFD_ARTIFACTS'] ?? join(spec.checkout.stateDir, 'artifacts');
  const store = openArtifactStore(absoluteStoreLocation(artifacts), env);
  const connections = await connect(target, log);
  if (!connections) return 1;
  let workers: Worker[];
  try {
    workers = await startWorkers(spec, flags, target, store, connections, logger);
  } catch (e) {
    log('ERROR', `${name} could not start: ${(e as Error).message.split('\n')[0]}`);
    await closeConnections(connections);
    return 1;
  }
  const stopHandler = shutDownOnSignals(spec, workers, log);
  log('INFO', 'ready', {
    taskQueues: workers.map((w) => w.options.taskQueue),
    address: target.address,
    namespace: target.namespace,
    artifacts: store.rootUri,
    pid: process.pid,
  });
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    process.off('SIGINT', stopHandler);
    process.off('SIGTERM', stopHandler);
    await closeConnections(connections);
  }
  log('INFO', 'stopped');
  return 0;
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      address: { type: 'string' },
      namespace: { type: 'string' },
      artifacts: { type: 'string' },
      'max-activities': { type: 'string' },
      'max-workflow-tasks': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

/** The command line's flags, checked; or the exit code when it asked for help (0) or was wrong (2). */
function readFlags(spec: StageWorkerSpec, argv: string[]): WorkerFlags | { exitCode: number } {
  try {
    const flags = parseFlags(argv);
    if (flags.help) {
      console.log(usage(spec));
      return { exitCode: 0 };
    }
    positiveInt(flags['max-activities'], 'max-activities', 1);
    positiveInt(flags['max-workflow-tasks'], 'max-workflow-tasks', 1);
    return flags;
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage(spec)}`);
    return { exitCode: 2 };
  }
}

/** Routes the Temporal SDK's warnings and errors into this worker's structured log. */
function installSdkLogger(log: LogLine): DefaultLogger {
  const logger = new DefaultLogger('WARN', (entry: LogEntry) => {
    // By design each Worker serves one kind of task queue; the SDK warns about the other kind.
    if (/^No (workflows|activities) registered/.test(entry.message)) return;
    log(entry.level, entry.message, entry.meta);
  });
  Runtime.install({ logger, shutdownSignals: [] });
  return logger;
}

/** Both connections to the Temporal front end, or null (logged) when it cannot be reached. */
async function connect(target: TemporalTarget, log: LogLine): Promise<TemporalConnections | null> {
  try {
    const native = await NativeConnection.connect({ address: target.address });
    const client = await Connection.connect({ address: target.address, connectTimeout: 5_000 });
    return { native, client };
  } catch (e) {
    log('ERROR', unreachableMessage(target, e));
    return null;
  }
}

async function closeConnections(connections: TemporalConnections): Promise<void> {
  await connections.client.close();
  await connections.native.close();
}

/** The tensor backend where the stage needs one, the activity worker, and the workflow worker where hosted. */
async function startWorkers(
  spec: StageWorkerSpec,
  flags: WorkerFlags,
  target: TemporalTarget,
  store: ArtifactStore,
  connections: TemporalConnections,
  logger: DefaultLogger,
): Promise<Worker[]> {
  if (spec.needsTensorBackend) {
    await spec.checkout.prepareTensorEngine?.();
    await initBackend();
  }
  const client = new Client({ connection: connections.client, namespace: target.namespace });
  const activities = spec.createActivities({ store, progress: signalWorkflowProgress(client) });
  const workers = [
    await Worker.create({
      connection: connections.native,
      namespace: target.namespace,
      taskQueue: TASK_QUEUES[spec.stage],
      activities,
      maxConcurrentActivityTaskExecutions: positiveInt(
        flags['max-activities'],
        'max-activities',
        spec.defaultMaxActivities,
      ),
      shutdownGraceTime: spec.shutdownGraceMs,
    }),
  ];
  if (spec.workflows) {
    const codePath =
      'codePath' in spec.workflows
        ? spec.workflows.codePath
        : await prebuiltWorkflowBundle(spec.workflows, join(spec.checkout.stateDir, 'cache'), logger);
    workers.push(
      await Worker.create({
        connection: connections.native,
        namespace: target.namespace,
        taskQueue: WORKFLOW_TASK_QUEUE,
        workflowBundle: { codePath },
        maxConcurrentWorkflowTaskExecutions: positiveInt(flags['max-workflow-tasks'], 'max-workflow-tasks', 10),
      }),
    );
  }
  return workers;
}

/**
 * Graceful shutdown on SIGINT/SIGTERM (running activities get the grace time); a second signal exits at
 * once. Returns the handler, to remove when the workers have stopped.
 */
function shutDownOnSignals(spec: StageWorkerSpec, workers: Worker[], log: LogLine): (signal: NodeJS.Signals) => void {
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log('WARN', `${signal} again: exiting without waiting`);
      process.exit(130);
    }
    log(
      'INFO',
      `${signal}: shutting down (running activities get ${spec.shutdownGraceMs / 1000} s, then are cancelled and retried elsewhere)`,
    );
    for (const worker of workers) worker.shutdown();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return stop;
}
