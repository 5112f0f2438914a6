import { defineConfig } from 'vitest/config';

// One vitest run covers every project; a project opts in with its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['libs/*', 'apps/*', 'workflows', 'tools'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
