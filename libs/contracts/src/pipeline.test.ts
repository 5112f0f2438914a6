import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DatasetSpecSchema,
  STAGE_ACTIVITY_OPTIONS,
  TASK_QUEUES,
  parseConfig,
  stageActivityOptions,
} from './index';

describe('pipeline contracts', () => {
  it('gives every stage its queue, timeouts and a retry policy that never retries bad data or config', () => {
    for (const [stage, options] of Object.entries(STAGE_ACTIVITY_OPTIONS)) {
      expect(options.taskQueue).toBe(TASK_QUEUES[stage as keyof typeof TASK_QUEUES]);
      expect(options.heartbeatTimeout).toBeLessThan(options.startToCloseTimeout);
      expect(options.retry.nonRetryableErrorTypes).toEqual(['DatasetError', 'ConfigError']);
    }
  });

  it('applies per-run timeout overrides without touching the shared defaults', () => {
    const options = stageActivityOptions('student', { heartbeatTimeoutMs: 5_000 });
    expect(options.heartbeatTimeout).toBe(5_000);
    expect(options.startToCloseTimeout).toBe(STAGE_ACTIVITY_OPTIONS.student.startToCloseTimeout);
    options.retry.nonRetryableErrorTypes.push('Other');
    expect(STAGE_ACTIVITY_OPTIONS.student.retry.nonRetryableErrorTypes).toEqual(['DatasetError', 'ConfigError']);
    expect(STAGE_ACTIVITY_OPTIONS.student.heartbeatTimeout).toBe(60_000);
  });

  it('parses each dataset source and names the field of a bad one', () => {
    expect(parseConfig(DatasetSpecSchema, { kind: 'synthetic', preset: 'tiny', seed: 3 })).toEqual({
      kind: 'synthetic',
      preset: 'tiny',
      seed: 3,
    });
    expect(parseConfig(DatasetSpecSchema, { kind: 'mmrec', dir: '/data/baby' }).kind).toBe('mmrec');
    expect(() => parseConfig(DatasetSpecSchema, { kind: 'synthetic', preset: 'tiny', seed: -1 }, 'dataset')).toThrow(
      /field 'seed'/,
    );
    expect(() =>
      parseConfig(DatasetSpecSchema, {
        kind: 'synthetic',
        preset: 'tiny',
        seed: 1,
        overrides: { users: 10, colour: 1 },
      }),
    ).toThrow(ConfigError);
    expect(() => parseConfig(DatasetSpecSchema, { kind: 'csv', path: 'x' })).toThrow(ConfigError);
  });
});
