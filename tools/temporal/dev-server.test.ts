import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporalServerError, startDevServer, waitForTemporal } from './dev-server';
import { ensureTemporalCli } from './cli-install';
import { temporalTestAddress } from './test-address';
import type { greeting } from './fixtures/greeting-workflow';

Runtime.install({ logger: new DefaultLogger('WARN') });

const workflowsPath = fileURLToPath(new URL('./fixtures/greeting-workflow.ts', import.meta.url));

describe('the shared Temporal test server', () => {
  it('runs a real workflow on a real worker with a bundled workflow', async () => {
    const { address, namespace } = temporalTestAddress();
    const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
    const taskQueue = `tools-test-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowBundle,
      activities: { composeGreeting: async (name: string) => `Hello, ${name}!` },
    });
    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace });
      const result = await worker.runUntil(async () => {
        const handle = await client.workflow.start<typeof greeting>('greeting', {
          taskQueue,
          workflowId: `greeting-${randomUUID()}`,
          args: ['Temporal'],
        });
        const text = await handle.result();
        const state = await handle.query<string>('greetingState');
        const history = await handle.fetchHistory();
        return { text, state, events: history.events?.length ?? 0 };
      });
      expect(result.text).toBe('Hello, Temporal!');
      expect(result.state).toBe('done');
      // started, tasks, activity scheduled/started/completed, completed: a real history, not a shortcut.
      expect(result.events).toBeGreaterThanOrEqual(11);
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});

describe('startDevServer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-temporal-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a server with its Web UI on free ports, persists to the db file and stops cleanly', async () => {
    const dbFile = join(dir, 'state.db');
    const server = await startDevServer({ dbFile, namespace: 'sgfd-lifecycle' });
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const ui = await fetch(server.uiUrl);
      expect(ui.status).toBe(200);
      const connection = await Connection.connect({ address: server.address });
      const described = await connection.workflowService.describeNamespace({ namespace: 'sgfd-lifecycle' });
      await connection.close();
      expect(described.namespaceInfo?.name).toBe('sgfd-lifecycle');
      expect(existsSync(dbFile)).toBe(true);
    } finally {
      await server.stop();
    }
    expect(() => process.kill(server.pid, 0)).toThrow();
    await expect(waitForTemporal(server.address, 'default', 500)).rejects.toThrow(TemporalServerError);
  });

  it('fails with the server output when the server cannot start (port taken)', async () => {
    const { path } = await ensureTemporalCli();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const error = await startDevServer({ cliPath: path, dbFile: join(dir, 'taken.db'), port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TemporalServerError);
      expect((error as TemporalServerError).exitedEarly).toBe(true);
      expect((error as Error).message).toContain(`--port ${port}`);
      expect((error as Error).message).toMatch(/server output:\n.*address already in use/s);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      blocker.close();
    }
  });
});

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
