import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'activities', include: ['src/**/*.test.ts'] } });
