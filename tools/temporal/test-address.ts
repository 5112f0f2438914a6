import type { Connection } from '@temporalio/client';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the shared test server; empty when no selected project needs Temporal. */
    temporalAddress: string;
    temporalNamespace: string;
  }
}

/**
 * The shared test server's address, for tests run by vitest. Throws (never skips) when the run did not
 * start one, naming what to change, so a Temporal test cannot silently pass without a server.
 */
export function temporalTestAddress(): { address: string; namespace: string } {
  const address = inject('temporalAddress');
  if (!address) {
    throw new Error(
      'No Temporal test server in this run: add this project to PROJECTS_USING_TEMPORAL in ' +
        'tools/temporal/vitest-global-setup.ts (the root vitest.config.ts starts one server for those projects)',
    );
  }
  return { address, namespace: inject('temporalNamespace') };
}

/**
 * Registers a fresh namespace `<label>-<random>` on the test server and waits until it can be used, so a
 * test file's fixed task-queue names never meet the workers of another file running at the same time.
 */
export async function registerTestNamespace(connection: Connection, label: string): Promise<string> {
  const namespace = `${label}-${Math.random().toString(16).slice(2, 10)}`;
  // protobufjs accepts a plain number where the generated type says Long.
  const retention = { seconds: 24 * 3600 } as never;
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention });
  // Registration is immediate in the database but reaches the front end's namespace cache a moment later.
  for (let attempt = 0; ; attempt++) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace });
      return namespace;
    } catch (e) {
      if (attempt >= 100) throw e;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
export { createTestBucket, s3Env, s3TestServer, useTestS3 } from '../s3/test-s3';
export type { S3TestServer } from '../s3/test-s3';
export { runWorkerApp, type WorkerAppResult } from '../src/worker-app';
