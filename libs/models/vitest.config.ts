import { defineProject } from 'vitest/config';

// Gradient checks evaluate the loss thousands of times; allow for a busy machine.
export default defineProject({
  test: { name: 'models', include: ['src/**/*.test.ts'], testTimeout: 60_000, isolate: false },
});
