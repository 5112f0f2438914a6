import { defineConfig } from 'vitest/config';

// One vitest run covers every project; a project opts in with its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['libs/*', 'apps/*', 'workflows', 'tools'],
    // Runs once per run (root project), before any test: builds/reuses the Temporal CLI and starts ONE
    // real dev server for the projects that need it; its address reaches tests through inject().
    globalSetup: ['tools/temporal/vitest-global-setup.ts'],
    pool: 'forks',
    // Vitest's default is one fork fewer than the cores, which is a single fork on 2 cores; most test
    // files wait on a server or a child process, so one fork per core halves the wall time.
    maxWorkers: 2,
    // Projects of pure functions over files (artifacts, contracts, data, experiments, metrics, tensor) set
    // isolate: false: their files share one fork and its loaded modules instead of paying ~3 s each to start one.
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
