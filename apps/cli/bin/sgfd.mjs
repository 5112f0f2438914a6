#!/usr/bin/env node
// The `sgfd` command in a checkout: the CLI's TypeScript run through tsx. `npm run build` makes dist/sgfd.mjs,
// the same CLI bundled for machines without a checkout.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
