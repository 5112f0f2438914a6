import { ConfigError } from '@sgfd/contracts';

/**
 * The S3 store could not be reached (connection refused, reset, timed out, a 5xx). Not a UserError, so an
 * activity that meets it fails retryably and succeeds once the store is back.
 */
export class ArtifactStoreUnavailableError extends Error {
  override readonly name = 'ArtifactStoreUnavailableError';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
  cause?: unknown;
}

function networkCode(e: SdkError | undefined, depth = 0): string | undefined {
  if (!e || depth > 4) return undefined;
  if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return e.name;
  // AggregateError (happy eyeballs) keeps the per-address errors in `errors`.
  for (const inner of (e as { errors?: SdkError[] }).errors ?? []) {
    const code = networkCode(inner, depth + 1);
    if (code) return code;
  }
  return networkCode(e.cause as SdkError | undefined, depth + 1);
}

export function isPreconditionFailed(e: unknown): boolean {
  const err = e as SdkError;
  const status = err?.$metadata?.httpStatusCode;
  return err?.name === 'PreconditionFailed' || status === 412 || status === 409;
}

export function isNotFound(e: unknown): boolean {
  const err = e as SdkError;
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
}

/**
 * Turns an SDK failure into the error a user acts on: a missing bucket or refused credentials are one
 * precise non-retryable ConfigError; an unreachable endpoint or a server error is retryable and names the
 * endpoint; anything else passes through.
 */
export function s3Failure(e: unknown, where: { endpoint: string; bucket: string; doing: string }): unknown {
  const err = e as SdkError;
  const store = `s3://${where.bucket} at ${where.endpoint}`;
  if (err?.name === 'NoSuchBucket' || err?.Code === 'NoSuchBucket') {
    return new ConfigError('The S3 bucket of the artifact store does not exist', {
      field: 'artifactStore',
      expected: `an existing bucket (create ${where.bucket} first)`,
      found: store,
    });
  }
  if (
    ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'CredentialsProviderError'].includes(
      err?.name ?? '',
    )
  ) {
    return new ConfigError('The S3 artifact store refused the credentials', {
      field: 'artifactStore',
      expected: 'AWS credentials allowed to read and write the bucket (AWS_ACCESS_KEY_ID / AWS_PROFILE)',
      found: `${err.name} from ${store}`,
    });
  }
  const code = networkCode(err);
  const status = err?.$metadata?.httpStatusCode;
  if (code || (status !== undefined && status >= 500)) {
    return new ArtifactStoreUnavailableError(
      `Cannot reach the S3 artifact store at ${where.endpoint} (${code ?? `HTTP ${status}`}) while ${where.doing}; ` +
        'retryable: it succeeds once the store is back',
      { cause: e },
    );
  }
  return e;
}
