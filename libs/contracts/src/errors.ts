/** Where a problem was found, so a user can go straight to it. */
export interface ErrorLocation {
  file?: string;
  row?: number;
  field?: string;
  expected?: string;
  found?: string;
}

/** Longest `found` text a message quotes: a bad line can be megabytes long. */
const MAX_FOUND_CHARS = 120;

/**
 * Makes text from a user's file safe to print: control characters (NUL, ESC, ...) and the replacement
 * character become escapes, so a message never carries raw bytes to the terminal.
 */
export function printable(text: string, maxChars = Infinity): string {
  // Matching control characters is the point here.
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/g, (c) =>
    c === '\ufffd' ? '\\ufffd' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return escaped.length > maxChars ? `${escaped.slice(0, maxChars)}... (${escaped.length} chars)` : escaped;
}

function describe(location: ErrorLocation): string {
  const where = [
    location.file,
    location.row !== undefined ? `row ${location.row}` : undefined,
    location.field !== undefined ? `field '${location.field}'` : undefined,
  ].filter(Boolean);
  const what = [
    location.expected !== undefined ? `expected ${location.expected}` : undefined,
    location.found !== undefined ? `found ${location.found}` : undefined,
  ].filter(Boolean);
  return [where.join(', '), what.join(', ')].filter((s) => s.length > 0).join(': ');
}

function printableLocation(location: ErrorLocation): ErrorLocation {
  const out: ErrorLocation = { ...location };
  if (out.file !== undefined) out.file = printable(out.file);
  if (out.field !== undefined) out.field = printable(out.field);
  if (out.found !== undefined) out.found = printable(out.found, MAX_FOUND_CHARS);
  return out;
}

/**
 * Errors a user can act on (bad data, bad config, their environment). Their `name` survives Temporal's
 * failure conversion, which is how activities mark them non-retryable.
 */
export abstract class UserError extends Error {
  readonly location: ErrorLocation;
  constructor(summary: string, location: ErrorLocation = {}) {
    const safe = printableLocation(location);
    const detail = describe(safe);
    super(printable(detail ? `${summary} (${detail})` : summary));
    this.location = safe;
  }
}

export class DatasetError extends UserError {
  override readonly name = 'DatasetError';
}

export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
}

/**
 * The user's machine is in the way: a path that cannot be written, a full disk, a folder that cannot be
 * read. Retryable (the environment may be fixed), but still the user's to act on.
 */
export class EnvironmentError extends UserError {
  override readonly name = 'EnvironmentError';
}

/** Error type names that must never be retried. */
export const NON_RETRYABLE_ERROR_TYPES = ['DatasetError', 'ConfigError'] as const;
