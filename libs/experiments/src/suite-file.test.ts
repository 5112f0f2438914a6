import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, expandSuite } from '@sgfd/contracts';
import { loadSuiteFile, parseSuiteText } from './index';

// The registry's names as the CLI passes them (this lib cannot load @sgfd/models).
const BACKBONES = ['vbpr', 'bm3', 'freedom', 'grcn', 'lattice', 'maml'];

const CI_SUITE = fileURLToPath(new URL('../../../suites/ci.yaml', import.meta.url));
const ATTRIBUTION_SUITE = fileURLToPath(new URL('../../../suites/office-attribution.yaml', import.meta.url));
const SIGNAL_SUITE = fileURLToPath(new URL('../../../suites/category-signal.yaml', import.meta.url));

const good = `name: demo
datasets:
  - kind: synthetic
    preset: tiny
    seed: 1
backbones: [vbpr]
sgfd: [off, two-stage]
seeds: [1, 2]
grid:
  tau: [5, 10]
`;

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('suite files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-suite-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads YAML and JSON into the same spec', async () => {
    const fromYaml = parseSuiteText(good, 'demo.yaml', BACKBONES);
    const json = join(dir, 'demo.json');
    await writeFile(
      json,
      JSON.stringify({
        name: 'demo',
        datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1 }],
        backbones: ['vbpr'],
        sgfd: ['off', 'two-stage'],
        seeds: [1, 2],
        grid: { tau: [5, 10] },
      }),
    );
    expect(await loadSuiteFile(json, BACKBONES)).toEqual(fromYaml);
    expect(expandSuite(fromYaml)).toHaveLength(2 + 4);
  });

  it('names file, line and field of a bad value', () => {
    const bad = good.replace('tau: [5, 10]', 'tau: [5, -10]');
    const e = configError(() => parseSuiteText(bad, 'suites/bad.yaml', BACKBONES));
    expect(e.location).toMatchObject({ file: 'suites/bad.yaml', row: 10, field: 'grid.tau[1]' });
    expect(e.message).toMatch(/suites\/bad\.yaml, row 10, field 'grid\.tau\[1\]'/);
  });

  it('points a missing field at its parent and says what is missing', () => {
    const e = configError(() => parseSuiteText(good.replace('seeds: [1, 2]\n', ''), 'x.yaml', BACKBONES));
    expect(e.location.field).toBe('seeds');
    expect(e.location.row).toBe(1);
  });

  it('names a wrong backbone with the allowed ones', () => {
    const e = configError(() =>
      parseSuiteText(good.replace('backbones: [vbpr]', 'backbones: [vbpr, resnet]'), 'x.yaml', BACKBONES),
    );
    expect(e.location).toMatchObject({ row: 6, field: 'backbones[1]' });
    expect(e.message).toMatch(/vbpr.*bm3/);
  });

  it('rejects a metric the evaluation does not report, before anything trains', () => {
    const e = configError(() =>
      parseSuiteText(`${good}report:\n  metrics: [recall@20, ndcg@30]\n`, 'x.yaml', BACKBONES),
    );
    expect(e.location).toMatchObject({ row: 12, field: 'report.metrics[1]' });
    expect(e.message).toMatch(/unknown metric 'ndcg@30'.*expected one of recall@5/);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    const syntax = configError(() => parseSuiteText('name: x\nseeds: [1, 2\nsgfd: [off]\n', 'x.yaml', BACKBONES));
    expect(syntax.message).toMatch(/not valid YAML/);
    expect(syntax.location.row).toBeGreaterThanOrEqual(2);
    const dup = configError(() => parseSuiteText(`${good}seeds: [3]\n`, 'x.yaml', BACKBONES));
    expect(dup.message).toMatch(/not valid YAML.*unique/i);
    expect(dup.location.row).toBe(11);
  });

  it('reports JSON syntax errors and missing files naming the file', async () => {
    expect(configError(() => parseSuiteText('{"name": ', 'x.json', BACKBONES)).message).toMatch(
      /x\.json.*|not valid JSON/,
    );
    await expect(loadSuiteFile(join(dir, 'nope.yaml'), BACKBONES)).rejects.toThrow(/nope\.yaml.*no such file/);
    expect(configError(() => parseSuiteText('', 'empty.yaml', BACKBONES)).message).toMatch(/empty/);
  });

  it('accepts the CI suite of the repo: 2 backbones x (off, two-stage) x 3 seeds', async () => {
    const spec = await loadSuiteFile(CI_SUITE, BACKBONES);
    const cells = expandSuite(spec);
    expect(spec.backbones).toEqual(['vbpr', 'bm3']);
    expect(spec.sgfd).toEqual(['off', 'two-stage']);
    expect(spec.seeds).toHaveLength(3);
    expect(cells).toHaveLength(2 * 2 * 3);
    expect(cells.every((c) => c.datasetSpec.kind === 'synthetic' && c.datasetSpec.preset === 'tiny')).toBe(true);
  });

  it('suites/office-attribution.yaml: office, VBPR and BM3, off / control / two-stage, 5 seeds (30 cells)', async () => {
    const spec = await loadSuiteFile(ATTRIBUTION_SUITE, BACKBONES);
    const cells = expandSuite(spec);
    expect(cells).toHaveLength(30);
    expect(new Set(cells.map((c) => c.mode))).toEqual(new Set(['off', 'control', 'two-stage']));
    expect(new Set(cells.map((c) => c.backbone))).toEqual(new Set(['vbpr', 'bm3']));
    expect(spec.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(cells.every((c) => c.datasetSpec.kind === 'synthetic' && c.datasetSpec.preset === 'office')).toBe(true);
  });

  it('suites/category-signal.yaml: VBPR on office at category signal 0.5 and 1.0, control vs two-stage (12 cells)', async () => {
    const spec = await loadSuiteFile(SIGNAL_SUITE, BACKBONES);
    const cells = expandSuite(spec);
    expect(cells).toHaveLength(12);
    expect(spec.report.baseline).toBe('control');
    const signals = cells.map((c) =>
      c.datasetSpec.kind === 'synthetic' ? c.datasetSpec.overrides?.categorySignal : null,
    );
    expect(new Set(signals)).toEqual(new Set([0.5, 1]));
  });
});
