import { defineProject } from 'vitest/config';

// Tests here start real servers and bundle workflows: generous limits on a busy 2-core machine
// (projects do not inherit the root config's timeouts).
export default defineProject({
  test: {
    name: 'tools',
    include: [
      'src/**/*.test.ts',
      'temporal/**/*.test.ts',
      's3/**/*.test.ts',
      'tensorflow/**/*.test.ts',
      'docs/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    isolate: false,
  },
});
