/** Where a problem was found, so a user can go straight to it. */
export interface ErrorLocation {
  file?: string;
  row?: number;
  field?: string;
  expected?: string;
  found?: string;
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

/**
 * Errors a user can act on (bad data, bad config). Their `name` survives Temporal's failure conversion,
 * which is how activities mark them non-retryable.
 */
export abstract class UserError extends Error {
  readonly location: ErrorLocation;
  constructor(summary: string, location: ErrorLocation = {}) {
    const detail = describe(location);
    super(detail ? `${summary} (${detail})` : summary);
    this.location = location;
  }
}

export class DatasetError extends UserError {
  override readonly name = 'DatasetError';
}

export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
}

/** Error type names that must never be retried. */
export const NON_RETRYABLE_ERROR_TYPES = ['DatasetError', 'ConfigError'] as const;
