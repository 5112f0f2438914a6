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
  });

  it('rejects an unknown backbone with a ConfigError naming the field', () => {
    expect.assertions(3);
    expect(() => parseConfig(RunConfigSchema, { backbone: 'nope' }, 'run.json')).toThrow(ConfigError);
    try {
      parseConfig(RunConfigSchema, { backbone: 'vbpr', sgfd: { tau: -1 } }, 'run.json');
    } catch (e) {
      expect((e as ConfigError).location.field).toBe('sgfd.tau');
      expect((e as Error).message).toContain('run.json');
    }
  });
});
