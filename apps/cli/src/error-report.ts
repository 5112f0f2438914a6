// The one place errors become output: every failure of `sgfd` (usage, user, environment, internal, a
// signal) is printed here, once, as text or (with --json) as one JSON document on stderr.
import { CommanderError } from 'commander';
import { UserError, type ErrorLocation } from '@sgfd/contracts';

/** Exit codes: 0 success, 1 bad input, config or environment (the message says what to fix), 2 bad usage, 3 internal error. */
export const ExitCode = { ok: 0, userError: 1, usage: 2, internal: 3 } as const;

export interface ReportMode {
  json: boolean;
  debug: boolean;
}

interface ErrorBody {
  name: string;
  message: string;
  location?: ErrorLocation;
  stack?: string;
}

function write(mode: ReportMode, body: ErrorBody, hint?: string): void {
  if (mode.json) {
    process.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return;
  }
  process.stderr.write(`error: ${body.message}\n`);
  if (hint) process.stderr.write(`${hint}\n`);
  if (body.stack) process.stderr.write(`${body.stack}\n`);
}

/** A usage error (exit 2): commander's own message, or one our option parsing raised. */
export function reportUsage(mode: ReportMode, message: string): number {
  write(mode, { name: 'UsageError', message: message.replace(/^error: /, '').trim() }, '(add --help for usage)');
  return ExitCode.usage;
}

/** Any error a command threw; returns its exit code. Stack traces only with --debug. */
export function reportError(mode: ReportMode, err: unknown): number {
  if (err instanceof CommanderError) return reportUsage(mode, err.message);
  const error = err instanceof Error ? err : new Error(String(err));
  const user = err instanceof UserError;
  const body: ErrorBody = { name: error.name, message: error.message, ...(user ? { location: err.location } : {}) };
  if (mode.debug) body.stack = error.stack ?? '';
  write(
    mode,
    body,
    user || mode.debug
      ? undefined
      : 'This is a bug in sgfd (exit 3): run again with --debug for the stack trace and report it.',
  );
  return user ? ExitCode.userError : ExitCode.internal;
}

/** The process was told to stop: what was cleaned up, before the signal ends it. */
export function reportInterrupted(mode: ReportMode, signal: string, removed: string[]): void {
  const cleaned = removed.length > 0 ? `removed the partial output ${removed.join(', ')}` : 'nothing partial was left';
  write(mode, {
    name: 'Interrupted',
    message: `Interrupted by ${signal}; ${cleaned}. Run the command again to redo it.`,
  });
}
