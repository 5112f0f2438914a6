import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'worker-ingest', include: ['src/**/*.test.ts'] } });
