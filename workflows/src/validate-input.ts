// One way for every workflow to reject a bad input before any activity runs.
import { ApplicationFailure } from '@temporalio/workflow';
import { UserError } from '@sgfd/contracts';

/**
 * Checks that `idFields` are non-empty strings, then runs `parse` (the zod parsing of the rest). Every
 * problem becomes a non-retryable failure naming the field: a thrown plain Error would fail the workflow
 * task and be retried forever, while a failure ends the run with the user's error.
 */
export function validateWorkflowInput<I extends object, T>(
  what: string,
  input: I,
  idFields: readonly (keyof I & string)[],
  parse: (input: I) => T,
): T {
  for (const field of idFields) {
    const value: unknown = input[field];
    if (typeof value !== 'string' || value.length === 0) {
      throw ApplicationFailure.nonRetryable(
        `Invalid ${what} input: field '${field}' must be a non-empty string`,
        'ConfigError',
      );
    }
  }
  try {
    return parse(input);
  } catch (e) {
    if (e instanceof UserError) throw ApplicationFailure.nonRetryable(e.message, e.name);
    throw e;
  }
}
