import { defineProject } from 'vitest/config';

// Training tests train real models; on a busy 2-core machine a few take longer than vitest's 5 s default.
export default defineProject({
  test: { name: 'training', include: ['src/**/*.test.ts'], testTimeout: 120_000, isolate: false },
});
