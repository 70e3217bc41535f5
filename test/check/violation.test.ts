import { describe, expect, test } from 'vitest';
import { formatViolation, ViolationError, type Violation } from '../../src/check/violation.js';
import { SimulationError } from '../../src/errors.js';

const V: Violation = { invariant: 'no-lost-wakeup', task: 't1/102', fn: 'do_anonymous_page', addr: 0x7f0000001000, timeNs: 1234.6, detail: 'waits on a wait queue nobody wakes' };

describe('Violation', () => {
  test('formats as one line naming invariant, task, function, address and time', () => {
    expect(formatViolation(V)).toBe('invariant violated: no-lost-wakeup by t1/102 in do_anonymous_page at 0x7f0000001000 (1235 ns): waits on a wait queue nobody wakes');
    expect(formatViolation({ ...V, task: '', fn: '', addr: null })).toBe('invariant violated: no-lost-wakeup (1235 ns): waits on a wait queue nobody wakes');
  });

  test('ViolationError is a SimulationError carrying the violation', () => {
    const e = new ViolationError(V);
    expect(e).toBeInstanceOf(SimulationError);
    expect(e.violation).toBe(V);
    expect(e.message).toBe(formatViolation(V));
  });
});
