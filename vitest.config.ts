import { defineConfig } from 'vitest/config';

// One vitest run covers every project; a project opts in with its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['libs/*', 'apps/*', 'workflows', 'tools'],
    // Runs once per run (root project), before any test: builds/reuses the Temporal CLI and starts ONE
    // real dev server for the projects that need it; its address reaches tests through inject().
    globalSetup: ['tools/temporal/vitest-global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
