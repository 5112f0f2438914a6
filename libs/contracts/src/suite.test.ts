import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_SUITE_CELLS, armKey, expandSuite, parseSuiteSpec, type SuiteSpecInput } from './index';

const spec = (overrides: Partial<SuiteSpecInput> = {}): SuiteSpecInput => ({
  name: 'demo',
  datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1 }],
  backbones: ['vbpr', 'bm3'],
  sgfd: ['off', 'two-stage'],
  seeds: [1, 2, 3],
  ...overrides,
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('suite spec', () => {
  it('fills defaults: selection on validation recall@20, Table-2 metrics, baseline off, alpha 0.05', () => {
    const parsed = parseSuiteSpec(spec());
    expect(parsed.selection.metric).toBe('recall@20');
    expect(parsed.report).toEqual({ metrics: ['recall@20', 'ndcg@20'], baseline: 'off', alpha: 0.05 });
    expect(parsed.parallelism).toBe(4);
  });

  it('names the file and the field of a bad value, with the index inside a list', () => {
    const e = configError(() => parseSuiteSpec(spec({ grid: { tau: [1, -2] } }), 'suites/x.yaml'));
    expect(e.location).toMatchObject({ file: 'suites/x.yaml', field: 'grid.tau[1]' });
    expect(e.message).toContain('suites/x.yaml');
  });

  it('rejects unknown keys (a typo is not silently ignored)', () => {
    const e = configError(() => parseSuiteSpec({ ...spec(), grid: { lerningRate: [0.1] } }));
    expect(e.location.field).toBe('grid');
    expect(e.message).toMatch(/lerningRate/);
  });

  it('rejects duplicate seeds, naming the duplicate', () => {
    const e = configError(() => parseSuiteSpec(spec({ seeds: [1, 2, 1] })));
    expect(e.location.field).toBe('seeds[2]');
    expect(e.message).toMatch(/duplicate value 1/);
  });

  it('rejects two datasets with the same label', () => {
    const e = configError(() =>
      parseSuiteSpec(
        spec({
          datasets: [
            { kind: 'synthetic', preset: 'tiny', seed: 1 },
            { kind: 'synthetic', preset: 'tiny', seed: 2 },
          ],
        }),
      ),
    );
    expect(e.location.field).toBe('datasets[1].label');
  });

  it('validates the base config against the run config schema, under base.*', () => {
    const e = configError(() => parseSuiteSpec(spec({ base: { training: { epochs: 0 } } })));
    expect(e.location.field).toBe('base.training.epochs');
  });

  it('rejects a baseline mode that is not in the suite', () => {
    const e = configError(() => parseSuiteSpec(spec({ sgfd: ['two-stage', 'joint'] })));
    expect(e.location.field).toBe('report.baseline');
  });

  it(`refuses more than ${MAX_SUITE_CELLS} cells`, () => {
    const many = Array.from({ length: 40 }, (_, i) => i);
    const e = configError(() =>
      parseSuiteSpec(spec({ seeds: many, grid: { learningRate: many.map((i) => 0.001 * (i + 1)) } })),
    );
    expect(e.location.field).toBe('grid');
    expect(e.message).toMatch(/expands to \d+ cells/);
  });
});

describe('expandSuite', () => {
  it('crosses datasets x backbones x modes x points x seeds; SGFD-only axes skip the plain backbone', () => {
    const parsed = parseSuiteSpec(spec({ grid: { learningRate: [0.001, 0.01], ceWeight: [0.1, 0.5], tau: [5] } }));
    const cells = expandSuite(parsed);
    // per backbone: off = 2 lr points, two-stage = 2 lr x 2 ce x 1 tau = 4 points; x 3 seeds; x 2 backbones
    expect(cells).toHaveLength(2 * (2 + 4) * 3);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
    const off = cells.filter((c) => c.mode === 'off' && c.backbone === 'vbpr');
    expect(off.map((c) => c.hyperparameters)).toContainEqual({ learningRate: 0.01 });
    expect(off.every((c) => !('ceWeight' in c.hyperparameters))).toBe(true);
  });

  it('applies each point and seed to the cell config on top of the base config', () => {
    const parsed = parseSuiteSpec(
      spec({
        backbones: ['vbpr'],
        sgfd: ['two-stage'],
        seeds: [7],
        base: { training: { epochs: 5 }, sgfd: { teacher: { epochs: 3 } } },
        grid: { learningRate: [0.02], regWeight: [0.5], kdWeight: [0.3], backboneParams: { embeddingSize: [16] } },
      }),
    );
    const [cell] = expandSuite(parsed);
    expect(cell!.id).toBe('tiny/vbpr/two-stage/h0/s7');
    expect(cell!.config.training).toMatchObject({ epochs: 5, seed: 7, learningRate: 0.02 });
    expect(cell!.config.backboneParams).toEqual({ regWeight: 0.5, embeddingSize: 16 });
    expect(cell!.config.sgfd).toMatchObject({ mode: 'two-stage', kdWeight: 0.3, ceWeight: 0.1 });
    expect(cell!.config.sgfd.teacher.epochs).toBe(3);
    expect(cell!.datasetSpec).toEqual({ kind: 'synthetic', preset: 'tiny', seed: 1 });
    expect(armKey(cell!)).toBe('tiny/vbpr/two-stage');
  });

  it('gives the same cells, in the same order, every time (workflow replay depends on it)', () => {
    const parsed = parseSuiteSpec(
      spec({ grid: { learningRate: [0.001, 0.01], backboneParams: { b: [1, 2], a: ['x'] } } }),
    );
    expect(expandSuite(parsed)).toEqual(expandSuite(structuredClone(parsed)));
    expect(expandSuite(parsed)[0]!.hyperparameters).toEqual({
      learningRate: 0.001,
      'backboneParams.a': 'x',
      'backboneParams.b': 1,
    });
  });

  it('derives dataset labels from folder names and keeps explicit labels', () => {
    const parsed = parseSuiteSpec(
      spec({
        datasets: [
          { kind: 'mmrec', dir: '/data/baby/' },
          { kind: 'parquet', dir: 'x/office', label: 'office-pq' },
        ],
        backbones: ['vbpr'],
        sgfd: ['off'],
        seeds: [1],
      }),
    );
    expect(expandSuite(parsed).map((c) => c.dataset)).toEqual(['baby', 'office-pq']);
  });
});
