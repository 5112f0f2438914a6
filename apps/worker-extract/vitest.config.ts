import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'worker-extract', include: ['src/**/*.test.ts'] } });
