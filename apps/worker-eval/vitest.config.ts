import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'worker-eval', include: ['src/**/*.test.ts'] } });
