import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'models', include: ['src/**/*.test.ts'] } });
