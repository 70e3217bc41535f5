import { describe, expect, test } from 'vitest';
import { fromWire, toWire } from '../../src/pool/wire-error.js';
import { ConfigError, InterruptedError, SimulationError, UsageError, WorkloadSyntaxError } from '../../src/errors.js';

/** Through a structured clone, as between threads. */
const across = (e: unknown): Error => fromWire(structuredClone(toWire(e)));

describe('errors between threads', () => {
  test('the typed errors keep their class and fields', () => {
    const u = across(new UsageError('bare message', 2, true));
    expect(u).toBeInstanceOf(UsageError);
    expect(u).toMatchObject({ message: 'bare message', exitCode: 2, bare: true });
    const w = across(new WorkloadSyntaxError('w.spf', 3, 5, 'unexpected token', '  touch a writ'));
    expect(w).toBeInstanceOf(WorkloadSyntaxError);
    expect((w as WorkloadSyntaxError).render()).toBe('w.spf:3:5: unexpected token\n  touch a writ\n    ^');
    expect(across(new ConfigError('bad config'))).toBeInstanceOf(ConfigError);
    expect(across(new SimulationError('stuck'))).toMatchObject({ name: 'SimulationError', message: 'stuck' });
    expect(across(new InterruptedError())).toBeInstanceOf(InterruptedError);
  });

  test('any other error: its name, message and the stack where it was thrown', () => {
    const e = new RangeError('out of range');
    const back = across(e);
    expect(back).toMatchObject({ name: 'RangeError', message: 'out of range', stack: e.stack });
    expect(across('a string')).toMatchObject({ name: 'Error', message: 'a string' });
  });
});
