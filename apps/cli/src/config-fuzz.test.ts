// Property-based fuzzing of the run-config path of `sgfd train`: a --config file of any content and any
// --set assignments give a resolved config or a ConfigError, never another exception. A --set without
// '=' or with a forbidden key is a usage error (exit 2, CommanderError): that is its documented outcome.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ConfigError } from '@sgfd/contracts';
import { buildConfig } from './commands/train';

let work: string;
let n = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-config-fuzz-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const KEYS = [
  'backbone',
  'backboneParams',
  'sgfd',
  'training',
  'mode',
  'tau',
  'tua',
  'teacher',
  'epochs',
  'regWeight',
  'embeddingSize',
  '__proto__',
  'constructor',
  '',
];
const keyPath = fc
  .array(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 4 })), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'));
const value = fc.oneof(
  fc.constantFrom('1', '-1', '0.5', 'true', 'null', 'vbpr', 'two-stage', '{}', '[]', '1e400', '"x"', '{"a":'),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 6 }),
);
const assignment = fc.oneof(
  fc.tuple(keyPath, value).map(([k, v]) => `${k}=${v}`),
  fc.string({ maxLength: 8 }),
);
const configValue = fc.record(
  {
    backbone: fc.constantFrom('vbpr', 'bm3', 'nope', 1),
    sgfd: fc.dictionary(fc.constantFrom('mode', 'tau', 'tua', 'teacher', 'ceWeight'), fc.jsonValue({ maxDepth: 1 })),
    training: fc.dictionary(fc.constantFrom('epochs', 'seed', 'epoch', 'batchSize'), fc.jsonValue({ maxDepth: 1 })),
    backboneParams: fc.dictionary(fc.constantFrom('regWeight', 'embeddingSize', 'x'), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);
const configText = fc.oneof(
  configValue.map((v) => JSON.stringify(v)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('null', '[]', '"x"', '{"__proto__": {"x": 1}}'),
);

describe('fuzz', () => {
  it('the run config (--config file, --set): a resolved config or a ConfigError', async () => {
    const { resolveRunConfig } = await import('@sgfd/training');
    await fc.assert(
      fc.asyncProperty(fc.option(configText), fc.array(assignment, { maxLength: 4 }), async (text, set) => {
        let config: string | undefined;
        if (text !== null) {
          config = join(work, `c${n++}.json`);
          await writeFile(config, text);
        }
        try {
          resolveRunConfig(await buildConfig({ config, set, root: '' }), 'fuzzed config');
        } catch (err) {
          const usage = err instanceof CommanderError && err.code === 'commander.invalidArgument';
          if (!(err instanceof ConfigError) && !usage) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});
