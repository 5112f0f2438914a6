#!/usr/bin/env node
// Entry for `npm start`, `npm test`, `npm run bench` and `npm run build`: plain Node with no dependencies, so it runs on a
// fresh clone. It installs the workspace when node_modules is missing or older than the lock file, then
// hands over to the real command.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env, ...opts });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function ensureInstalled() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.error('[sgfd] installing workspace dependencies (npm ci)…');
  const status = run('npm', ['ci', '--no-audit', '--no-fund']);
  if (status !== 0) process.exit(status);
}

function tsx(entry, args) {
  return run(process.execPath, ['--import', 'tsx', join(root, entry), ...args]);
}

/** One vitest run; returns its exit status and test totals (from its JSON report). */
function vitestRun(name, args, env) {
  const resultsFile = join(root, '.sgfd', `test-results${name ? `-${name}` : ''}.json`);
  mkdirSync(dirname(resultsFile), { recursive: true });
  rmSync(resultsFile, { force: true });
  const status = run(
    join(root, 'node_modules', '.bin', 'vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...args],
    { env: { ...process.env, ...env } },
  );
  const totals = { status, passed: 0, failed: 0, skipped: 0 };
  if (existsSync(resultsFile)) {
    const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
    totals.passed = r.numPassedTests ?? 0;
    // A file that failed to load has no failed test of its own: count it once.
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
    ).length;
    totals.failed = (r.numFailedTests ?? 0) + brokenFiles;
    totals.skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } else if (status !== 0) totals.failed = 1;
  return totals;
}

// The numerics-heavy projects run a second time on wasm, so that neither engine rots: the first run uses
// the default engine (native TensorFlow where it builds).
const WASM_PASS_PROJECTS = ['tensor', 'models', 'training'];

function test(args) {
  const runs = [vitestRun('', args, {})];
  // Arguments select what to run (a file, a project): then only what was asked runs, once.
  if (args.length === 0) {
    console.error(`[sgfd] the ${WASM_PASS_PROJECTS.join(', ')} tests again on the wasm engine`);
    runs.push(
      vitestRun(
        'wasm',
        WASM_PASS_PROJECTS.flatMap((p) => ['--project', p]),
        { SGFD_BACKEND: 'wasm' },
      ),
    );
  }
  const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
  const passed = sum('passed');
  const failed = sum('failed');
  const skipped = sum('skipped');
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  const bad = runs.find((r) => r.status !== 0);
  return bad ? bad.status : passed === 0 ? 1 : 0;
}

ensureInstalled();
switch (command) {
  case 'test':
    process.exit(test(rest));
  case 'start':
    process.exit(tsx('apps/cli/src/main.ts', ['start', ...rest]));
  case 'bench':
    process.exit(tsx('tools/bench/main.ts', rest));
  case 'build':
    process.exit(tsx('tools/build/build.ts', rest));
  case 'lint':
    process.exit(run(join(root, 'node_modules', '.bin', 'eslint'), ['.', ...rest]));
  default:
    console.error('usage: node tools/bootstrap.mjs test|start|bench|build|lint [args]');
    process.exit(2);
}
