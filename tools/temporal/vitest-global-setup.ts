// Root vitest global setup: the native tensor engine (built on first use), and ONE real Temporal dev server per test run, shared by every project. It runs
// once in the main vitest process (vitest 4 runs the root project's global setup once even in projects
// mode) and hands the address to the tests through `provide`; tests read it with `inject` (or
// `temporalTestAddress()` from @sgfd/tools). A failure to build or start the server fails the run.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { prepareTensorflowEngine } from '../tensorflow/prepare';
import { ensureTextModel } from '../text-encoder/install';
import { startS3Server, type S3Server } from '../s3/s3-server';
import { startDevServer, type DevServer } from './dev-server';
import { REPO_ROOT } from './local-server';
import type {} from './test-address';
import type {} from '../s3/test-s3';

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
/** Projects whose tests talk to the S3 test server (versitygw on loopback, built on first use). */
export const PROJECTS_USING_S3 = new Set(['artifacts', 'activities', 'cli']);

let server: DevServer | undefined;
let dbFile: string | undefined;
let s3: S3Server | undefined;
let s3DataDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  // Tests run on the default engine: native TensorFlow where it builds (first run: ~30 s), else wasm.
  await prepareTensorflowEngine();
  if (project.vitest.projects.some((p) => PROJECTS_USING_TEXT_MODEL.has(p.name))) await ensureTextModel();
  project.provide('temporalAddress', '');
  project.provide('temporalNamespace', 'default');
  project.provide('s3Endpoint', '');
  project.provide('s3AccessKey', '');
  project.provide('s3SecretKey', '');
  if (project.vitest.projects.some((p) => PROJECTS_USING_S3.has(p.name))) {
    s3DataDir = join(REPO_ROOT, '.sgfd', `test-s3-${process.pid}`);
    const s3Started = Date.now();
    s3 = await startS3Server({ dataDir: s3DataDir });
    console.error(
      `[sgfd] S3 test server ${s3.endpoint} (versitygw, pid ${s3.pid}) up in ${((Date.now() - s3Started) / 1000).toFixed(1)} s`,
    );
    project.provide('s3Endpoint', s3.endpoint);
    project.provide('s3AccessKey', s3.accessKey);
    project.provide('s3SecretKey', s3.secretKey);
  }
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
  await s3?.stop();
  if (s3DataDir) await rm(s3DataDir, { recursive: true, force: true });
  await server?.stop();
  if (dbFile)
    await Promise.all(['', '-wal', '-shm', '.log'].map((suffix) => rm(`${dbFile}${suffix}`, { force: true })));
}
