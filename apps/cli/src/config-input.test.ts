// The one run-config merger behind `sgfd train`, `run`, `schedule` and (on a suite's base) `suite run`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@sgfd/contracts';
import { registeredBackbones } from '@sgfd/models';
import { REPO_ROOT } from '@sgfd/tools';
import { mergeRunConfig } from './config-input';
import { runConfigFor } from './pipeline/run-input';
import { withBaseOverrides } from './commands/suite';

const { loadSuiteFile } = await import('@sgfd/experiments');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-config-input-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('mergeRunConfig', () => {
  it('layers the --config file, then the flags, then every --set', async () => {
    const file = join(work, 'run.json');
    await writeFile(file, JSON.stringify({ backbone: 'bm3', sgfd: { tau: 5 }, training: { epochs: 9, seed: 1 } }));
    const merged = await mergeRunConfig({ config: file, epochs: 3, lr: 0.01, set: ['training.seed=7', 'sgfd.tau=50'] });
    expect(merged).toEqual({
      backbone: 'bm3',
      sgfd: { tau: 50 },
      training: { epochs: 3, seed: 7, learningRate: 0.01 },
    });
  });

  it("gives `sgfd run` and `sgfd schedule` --set, validated with the nearest key's name", async () => {
    const config = await runConfigFor({ backbone: 'vbpr', set: ['sgfd.tau=20', 'backboneParams.regWeight=0.5'] });
    expect(config.sgfd.tau).toBe(20);
    expect(config.backboneParams).toMatchObject({ regWeight: 0.5 });
    const typo = runConfigFor({ backbone: 'vbpr', set: ['sgfd.tua=20'] });
    await expect(typo).rejects.toBeInstanceOf(ConfigError);
    await expect(typo).rejects.toThrow(/unknown key 'sgfd\.tua' \(did you mean 'sgfd\.tau'\?\)/);
  });

  it("applies a suite's --set to its base config and validates the suite again", async () => {
    const file = join(REPO_ROOT, 'suites', 'ci.yaml');
    const spec = await loadSuiteFile(file, registeredBackbones());
    const changed = withBaseOverrides(spec, ['sgfd.tau=30', 'training.patience=4'], file);
    expect(changed.base.sgfd).toMatchObject({ tau: 30 });
    expect(changed.base.training).toMatchObject({ patience: 4 });
    expect(spec.base.sgfd?.['tau']).not.toBe(30);
    expect(() => withBaseOverrides(spec, ['training.epochz=3'], file)).toThrow(/epochz/);
  });
});
