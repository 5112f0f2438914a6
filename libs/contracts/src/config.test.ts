import { describe, expect, it } from 'vitest';
import { ConfigError, RunConfigSchema, parseConfig } from './index';

describe('run config', () => {
  it('fills the documented defaults', () => {
    const config = parseConfig(RunConfigSchema, { backbone: 'vbpr' });
    expect(config.sgfd.mode).toBe('two-stage');
    expect(config.sgfd.latentDim).toBe(64);
    expect(config.training.batchSize).toBe(2048);
    expect(config.training.patience).toBe(20);
    expect(config.sgfd.teacher.holdoutFraction).toBe(0.1);
    expect(config.sgfd.teacher.inputDropout).toBe(0.5);
  });

  it('rejects a malformed backbone name and a bad field with a ConfigError naming the field', () => {
    // Whether a well-formed name is registered is the registry's check (@sgfd/models), where a config is resolved.
    expect.assertions(3);
    expect(() => parseConfig(RunConfigSchema, { backbone: 'Not A Name' }, 'run.json')).toThrow(ConfigError);
    try {
      parseConfig(RunConfigSchema, { backbone: 'vbpr', sgfd: { tau: -1 } }, 'run.json');
    } catch (e) {
      expect((e as ConfigError).location.field).toBe('sgfd.tau');
      expect((e as Error).message).toContain('run.json');
    }
  });
});

describe('unknown config keys', () => {
  const failure = (value: unknown, source = 'run.json'): ConfigError => {
    try {
      parseConfig(RunConfigSchema, value, source);
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('parsed');
  };

  it('names a misspelt nested key and suggests the nearest valid one', () => {
    const error = failure({ backbone: 'vbpr', sgfd: { tua: 50 } });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.location.field).toBe('sgfd.tua');
    expect(error.message).toContain("unknown key 'sgfd.tua' (did you mean 'sgfd.tau'?)");
    expect(error.message).toContain('run.json');
  });

  it('rejects unknown keys at every level: top, training, teacher', () => {
    expect(failure({ backbone: 'vbpr', nonexistent: { key: 1 } }).location.field).toBe('nonexistent');
    expect(failure({ backbone: 'vbpr', training: { epoch: 3 } }).message).toContain("did you mean 'training.epochs'?");
    expect(failure({ backbone: 'vbpr', sgfd: { teacher: { patiense: 3 } } }).message).toContain(
      "did you mean 'sgfd.teacher.patience'?",
    );
  });

  it('lists the valid keys when nothing is close', () => {
    const error = failure({ backbone: 'vbpr', zzzzzzzzzz: 1 });
    expect(error.message).not.toContain('did you mean');
    expect(error.location.expected).toBe('one of backbone, backboneParams, sgfd, training');
  });

  it('rejects unknown keys in dataset specs and suite datasets', async () => {
    const { DatasetSpecSchema, SuiteSpecSchema } = await import('./index');
    expect(() => parseConfig(DatasetSpecSchema, { kind: 'mmrec', dir: '/d', nmae: 'baby' }, 'dataset')).toThrow(
      /unknown key 'nmae' \(did you mean 'name'\?\)/,
    );
    // Only the keys of the variant that `kind` names, not those of every kind of dataset.
    const error = (() => {
      try {
        parseConfig(DatasetSpecSchema, { kind: 'mmrec', dir: '/d', nmae: 'baby' }, 'dataset');
      } catch (err) {
        return err as ConfigError;
      }
    })()!;
    expect(error.location.expected).not.toContain('preset');
    expect(error.location.expected).toContain('dir');
    const suite = {
      name: 's',
      datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1, label: 't', sed: 2 }],
      backbones: ['vbpr'],
      sgfd: ['off'],
      seeds: [1],
    };
    expect(() => parseConfig(SuiteSpecSchema, suite, 'suite.json')).toThrow(
      /unknown key 'datasets\.0\.sed' \(did you mean 'datasets\.0\.seed'\?\)/,
    );
    expect(
      parseConfig(SuiteSpecSchema, { ...suite, datasets: [{ kind: 'synthetic', preset: 'tiny', seed: 1, label: 't' }] })
        .datasets[0],
    ).toMatchObject({ label: 't' });
  });

  it('escapes control characters of a key in the message', () => {
    const error = failure({ backbone: 'vbpr', 'a\u0000b': 1 });
    expect(error.message).toContain('a\\x00b');
    expect(error.message).not.toContain('\u0000');
  });
});
