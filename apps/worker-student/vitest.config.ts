import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'worker-student', include: ['src/**/*.test.ts'] } });
