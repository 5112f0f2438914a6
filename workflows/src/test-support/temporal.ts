// Test-only helpers for workflow tests against the run's shared Temporal server (started by the root
// vitest global setup). Workflow code never imports this file.
import { fileURLToPath } from 'node:url';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { inject } from 'vitest';
import { WORKFLOW_TASK_QUEUE } from '@sgfd/contracts';
import { registerTestNamespace } from '@sgfd/tools/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
  }
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../index.ts', import.meta.url));

const ignore = () => undefined;
const quiet = { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: console.warn, error: console.error };

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
}

/** SDK core logs only errors in tests (once per process; later calls keep the installed runtime). */
export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process
  }
}

export interface TemporalTestContext {
  client: Client;
  namespace: string;
  /** Runs `fn` while a worker hosts the workflows (and only the given activities, if any). */
  withWorker<T>(fn: () => Promise<T>, activities?: object, taskQueue?: string): Promise<T>;
  close(): Promise<void>;
}

/**
 * Connects to the shared server and registers a namespace of its own for this test file, so the fixed
 * task-queue names (sgfd-ingest, ...) do not meet workers of other test files running at the same time.
 * Throws (never skips) when the run started no server.
 */
export async function temporalTestContext(
  bundle: WorkflowBundleWithSourceMap,
  label: string,
): Promise<TemporalTestContext> {
  const address = inject('temporalAddress');
  if (!address) throw new Error('No Temporal test server in this run (see tools/temporal/vitest-global-setup.ts)');
  quietTemporalRuntime();
  const connection = await Connection.connect({ address });
  const namespace = await registerTestNamespace(connection, label);
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    client,
    namespace,
    async withWorker(fn, activities, taskQueue = WORKFLOW_TASK_QUEUE) {
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace,
        taskQueue,
        workflowBundle: bundle,
        activities,
      });
      return worker.runUntil(fn);
    },
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));

const History = temporal.api.history.v1.History;

/**
 * With SGFD_RECORD_HISTORIES=1, saves a finished run's history as a replay fixture
 * (src/histories/<name>.binpb); replay.test.ts replays every fixture against the current workflow code.
 * Binary protobuf, not the SDK's JSON form: in this install @temporalio/common and @temporalio/proto each
 * get their own copy of protobufjs, and the SDK's historyToJSON/historyFromJSON then fail ("type must be a
 * Type"); encode/decode of @temporalio/proto's own classes do not cross the two copies.
 */
export async function recordHistoryIfAsked(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env['SGFD_RECORD_HISTORIES']) return;
  await mkdir(HISTORIES_DIR, { recursive: true });
  const file = join(HISTORIES_DIR, `${name}.binpb`);
  await writeFile(`${file}.tmp`, History.encode(await handle.fetchHistory()).finish());
  await rename(`${file}.tmp`, file);
}

export async function readHistory(file: string): Promise<temporal.api.history.v1.History> {
  return History.decode(await readFile(join(HISTORIES_DIR, file)));
}
