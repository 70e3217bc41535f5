import { ConfigError, InterruptedError, SimulationError, UsageError, WorkloadSyntaxError } from '../errors.js';
import { ViolationError, type Violation } from '../check/violation.js';

/**
 * An error thrown in a worker thread, as plain data, and back: the typed errors of src/errors.ts
 * come back as the same class with the same fields, so src/cli.ts prints the same message and
 * exits with the same status as when the run failed in this thread. Any other error comes back
 * as an Error with its name, message and the worker's stack (shown only with SPFPERF_DEBUG=1).
 */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly exitCode?: number;
  readonly bare?: boolean;
  readonly syntax?: { readonly file: string; readonly line: number; readonly col: number; readonly detail: string; readonly sourceLine: string };
  readonly violation?: Violation;
}

export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const base = { name: e.name, message: e.message, stack: e.stack };
  if (e instanceof UsageError) return { ...base, exitCode: e.exitCode, bare: e.bare };
  if (e instanceof ViolationError) return { ...base, violation: e.violation };
  if (e instanceof WorkloadSyntaxError) return { ...base, syntax: { file: e.file, line: e.line, col: e.col, detail: e.detail, sourceLine: e.sourceLine } };
  return base;
}

function typed(w: WireError): Error {
  switch (w.name) {
    case 'UsageError':
      return new UsageError(w.message, w.exitCode, w.bare);
    case 'WorkloadSyntaxError':
      if (w.syntax !== undefined) return new WorkloadSyntaxError(w.syntax.file, w.syntax.line, w.syntax.col, w.syntax.detail, w.syntax.sourceLine);
      break;
    case 'ConfigError':
      return new ConfigError(w.message);
    case 'ViolationError':
      if (w.violation !== undefined) {
        const v = new ViolationError(w.violation);
        v.message = w.message; // with the lines after the head (a hang's diagnosis)
        return v;
      }
      break;
    case 'SimulationError':
      return new SimulationError(w.message);
    case 'InterruptedError':
      return new InterruptedError();
  }
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

export function fromWire(w: WireError): Error {
  const e = typed(w);
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}
