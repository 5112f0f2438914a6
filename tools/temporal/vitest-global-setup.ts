// Root vitest global setup: the native tensor engine (built on first use), and ONE real Temporal dev server per test run, shared by every project. It runs
// once in the main vitest process (vitest 4 runs the root project's global setup once even in projects
// mode) and hands the address to the tests through `provide`; tests read it with `inject` (or
// `temporalTestAddress()` from @sgfd/tools). A failure to build or start the server fails the run.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { prepareTensorflowEngine } from '../tensorflow/prepare';
import { ensureTextModel } from '../text-encoder/install';
import { startDevServer, type DevServer } from './dev-server';
import { REPO_ROOT } from './local-server';
import type {} from './test-address';

/**
 * Projects whose tests talk to Temporal. A run of only other projects (`--project data`) starts no server.
 * Add a project here when its tests start using `temporalTestAddress()`.
 */
export const PROJECTS_USING_TEMPORAL = new Set([
  'tools',
  'workflows',
  'activities',
  'cli',
  'worker-ingest',
  'worker-teacher',
  'worker-student',
  'worker-eval',
  'worker-extract',
]);

/** Projects whose tests encode text with the real sentence encoder (fetched once per machine, ~20 s). */
export const PROJECTS_USING_TEXT_MODEL = new Set(['extract', 'activities', 'cli']);

let server: DevServer | undefined;
let dbFile: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  // Tests run on the default engine: native TensorFlow where it builds (first run: ~30 s), else wasm.
  await prepareTensorflowEngine();
  if (project.vitest.projects.some((p) => PROJECTS_USING_TEXT_MODEL.has(p.name))) await ensureTextModel();
  project.provide('temporalAddress', '');
  project.provide('temporalNamespace', 'default');
  const needed = project.vitest.projects.some((p) => PROJECTS_USING_TEMPORAL.has(p.name));
  if (!needed) return;
  dbFile = join(REPO_ROOT, '.sgfd', `test-temporal-${process.pid}.db`);
  const started = Date.now();
  server = await startDevServer({ dbFile });
  console.error(
    `[sgfd] Temporal test server ${server.address} (pid ${server.pid}) up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dbFile)
    await Promise.all(['', '-wal', '-shm', '.log'].map((suffix) => rm(`${dbFile}${suffix}`, { force: true })));
}
