import type { Command } from 'commander';

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  json: boolean;
  debug: boolean;
}

export function globalsOf(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<{ json?: boolean; debug?: boolean }>();
  return { json: opts.json === true, debug: opts.debug === true };
}

/** Prints the result of a command: `human()` text by default, `json` (one document on stdout) with --json. */
export function emit(command: Command, json: unknown, human: () => string): void {
  if (globalsOf(command).json) process.stdout.write(`${JSON.stringify(json, jsonReplacer, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** Progress and notes go to stderr so stdout stays clean for --json consumers. */
export function note(command: Command, message: string): void {
  if (!globalsOf(command).json) process.stderr.write(`${message}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Left-aligned two-column table. */
export function keyValues(rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function formatNumber(value: number, digits = 4): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toString();
}
