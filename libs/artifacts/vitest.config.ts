import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: 'artifacts', include: ['src/**/*.test.ts'], isolate: false } });
