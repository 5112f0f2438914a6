import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'training', include: ['src/**/*.test.ts'] } });
