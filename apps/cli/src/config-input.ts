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
