import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'worker-teacher', include: ['src/**/*.test.ts'] } });
