import { expect } from 'vitest';
import { UsageError, WorkloadSyntaxError } from '../../src/errors.js';

/** Runs `f`, which must throw a WorkloadSyntaxError, and returns it. */
export function syntaxErrorOf(f: () => unknown): WorkloadSyntaxError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadSyntaxError);
    return e as WorkloadSyntaxError;
  }
  throw new Error('expected a WorkloadSyntaxError, but nothing was thrown');
}

/** The `file:line:col: message` text of the WorkloadSyntaxError that `f` throws. */
export function syntaxMessage(f: () => unknown): string {
  return syntaxErrorOf(f).message;
}

/** The message of the UsageError (a bad parameter on the command line) that `f` throws. */
export function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).message;
  }
  throw new Error('expected a UsageError');
}
