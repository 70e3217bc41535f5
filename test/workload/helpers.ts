import { expect } from 'vitest';
import { WorkloadSyntaxError } from '../../src/errors.js';

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
