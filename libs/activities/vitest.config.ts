import { defineProject } from 'vitest/config';

// Activity tests train real small models: generous limits on a busy 2-core machine (projects do not
// inherit the root config's timeouts).
export default defineProject({
  test: {
    name: 'activities',
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    isolate: false,
  },
});
