import { SimulationError } from '../errors.js';

/**
 * A broken invariant, as every checker reports it: the run-time invariant checks (`--check`), the
 * hang detector (a task that will never run again) and the model's own fatal errors. `spfperf
 * check` keys its shrinking on `invariant` (a shrunk schedule must break the same one) and prints
 * the rest in its report; `stat`/`record --check` print it as one line (formatViolation).
 */
export interface Violation {
  /** Short stable name of the invariant, kebab-case (e.g. 'no-lost-wakeup', 'pte-maps-live-page'). */
  readonly invariant: string;
  /** The task whose step broke it, as 'comm/tid' ('' when no task is to blame, e.g. an exit scan). */
  readonly task: string;
  /** The kernel function of that step (e.g. 'do_anonymous_page'); '' when unknown. */
  readonly fn: string;
  /** The user virtual address concerned, or null. */
  readonly addr: number | null;
  /** Virtual time of the step (ns). */
  readonly timeNs: number;
  /** One line saying what was seen (no newline). */
  readonly detail: string;
}

/**
 * Thrown by a checker that found a violation: the run stops there. A SimulationError, so that
 * outside `check` it exits 3 with its one-line message like any run the model found broken.
 */
export class ViolationError extends SimulationError {
  constructor(readonly violation: Violation) {
    super(formatViolation(violation));
    this.name = 'ViolationError';
  }
}

/** `invariant violated: <invariant> by <task> in <fn> at <addr> (<time> ns): <detail>`, one line. */
export function formatViolation(v: Violation): string {
  const who = v.task !== '' ? ` by ${v.task}` : '';
  const fn = v.fn !== '' ? ` in ${v.fn}` : '';
  const at = v.addr !== null ? ` at 0x${v.addr.toString(16)}` : '';
  return `invariant violated: ${v.invariant}${who}${fn}${at} (${Math.round(v.timeNs)} ns): ${v.detail}`;
}
