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
    // Every project with more than one test file sets isolate: false: its files share a fork and its loaded
    // modules (tfjs, the engine, Temporal's client) instead of paying 1-6 s each to load them again. A test
    // that changes process-wide state restores it (vi.stubEnv, setCustomOpsEnabled in afterEach).
    // Measured on 2 cores: the cli project 6 min 58 s -> 6 min 01 s, models 44 -> 26 s, training 45 -> 37 s.
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
