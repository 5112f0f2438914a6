import { defineProject } from 'vitest/config';

// Tests bundle the workflows and run them on the real server: generous limits on a busy 2-core machine
// (projects do not inherit the root config's timeouts).
export default defineProject({
  test: {
    name: 'workflows',
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    isolate: false,
  },
});
