#!/usr/bin/env node
// The `sgfd` command. The CLI is TypeScript run through tsx (the workspace has no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
