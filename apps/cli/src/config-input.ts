// Reading a run config: the --config file and the --set overrides, before zod validates the result.
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '@sgfd/contracts';

/** Keys that would reach Object.prototype instead of the config. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** The --config file: a regular file holding a JSON object (not null, not an array), else a ConfigError naming it. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const { readSourceFile } = await import('@sgfd/data');
  const bytes = await readSourceFile(path, 'config file', ConfigError);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ConfigError('The config file is not JSON', {
      file: path,
      expected: 'a JSON object',
      found: (e as Error).message,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('The config file is not a JSON object', {
      file: path,
      expected: 'a JSON object ({ ... })',
      found: value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value,
    });
  }
  return value as Record<string, unknown>;
}

/** Sets `path` (a.b.c) in a plain object; the value is parsed as JSON when it can be (numbers, booleans). */
export function setPath(target: Record<string, unknown>, path: string, raw: string): void {
  const keys = path.split('.');
  const bad = keys.find((k) => k === '' || FORBIDDEN_KEYS.has(k));
  if (bad !== undefined)
    throw new InvalidArgumentError(
      `--set: bad key '${path}' (${bad === '' ? 'an empty part' : `'${bad}' is not a config key`}).`,
    );
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string, e.g. --set sgfd.responseLoss=kl
  }
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** One `--set key=value`; a malformed one is a usage error (exit 2) that says what was expected. */
export function applySet(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--set expects key=value (e.g. --set sgfd.tau=50), got '${assignment}'.`);
  setPath(target, assignment.slice(0, eq), assignment.slice(eq + 1));
}

/** The flags every command that starts training shares; each maps to one config field. */
export interface RunConfigFlags {
  config?: string;
  backbone?: string;
  sgfd?: string;
  seed?: number;
  epochs?: number;
  patience?: number;
  batchSize?: number;
  lr?: number;
  set?: string[];
}

const FLAG_FIELDS: readonly [keyof RunConfigFlags, string][] = [
  ['backbone', 'backbone'],
  ['sgfd', 'sgfd.mode'],
  ['seed', 'training.seed'],
  ['epochs', 'training.epochs'],
  ['patience', 'training.patience'],
  ['batchSize', 'training.batchSize'],
  ['lr', 'training.learningRate'],
];

/**
 * The one run-config merger of `sgfd train`, `run` and `schedule`: the --config file, then the flags, then
 * every --set key=value, in that order. The result is raw: zod validates it where it is resolved.
 */
export async function mergeRunConfig(flags: RunConfigFlags): Promise<Record<string, unknown>> {
  const config: Record<string, unknown> = flags.config ? await readConfigFile(flags.config) : {};
  for (const [flag, path] of FLAG_FIELDS) {
    const value = flags[flag];
    if (value !== undefined) setPath(config, path, JSON.stringify(value));
  }
  for (const assignment of flags.set ?? []) applySet(config, assignment);
  return config;
}

/** Commander's collector for a repeatable option such as --set. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

// The names come from the backbone registry when the config is resolved (an unknown one is a ConfigError that
// lists them): listing them here would load every model at CLI start.
export const BACKBONE_OPTION_HELP = 'recommender backbone: vbpr, bm3, ... as registered (or "backbone" in --config)';

export const SET_OPTION_HELP = 'override one config field, e.g. --set sgfd.tau=50 --set backboneParams.regWeight=0.1';
