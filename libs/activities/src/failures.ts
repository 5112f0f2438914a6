import { ApplicationFailure } from '@temporalio/common';
import { UserError } from '@sgfd/contracts';

/**
 * Bad data and bad config fail the same way on every attempt: they leave the activity as a non-retryable
 * ApplicationFailure whose type is the error's name and whose message is the one a user acts on. Any other
 * error passes through unchanged and is retried by the stage's policy.
 */
export function toActivityFailure(error: unknown): unknown {
  if (error instanceof UserError) return ApplicationFailure.nonRetryable(error.message, error.name);
  return error;
}

/** Runs an activity body, turning user errors into non-retryable failures. */
export async function failingClearly<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toActivityFailure(error);
  }
}
