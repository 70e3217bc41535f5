import { isMainThread } from 'node:worker_threads';
import { useHostCosts } from '../calibrate/hostcost.js';
import type { RunSpec } from '../pool/run-job.js';
import type { JobContext } from '../pool/jobs.js';
import { prepareRun, type PreparedRun } from '../sim/setup.js';
import { runSchedule } from './explore.js';
import type { Strategy } from './schedule-id.js';
import type { Violation } from './violation.js';

/**
 * The pool's `check` job: schedules from..to-1 of one run, in order, ending at the first that
 * breaks an invariant. `spfperf check` splits its schedules into such batches; whichever thread
 * runs a batch, schedule i is the same run (everything it depends on is in the input), so the
 * first violation found is the same as in one serial loop.
 */
export interface CheckBatch {
  readonly spec: RunSpec;
  readonly strategy: Strategy;
  readonly depth: number;
  readonly seed: number;
  /** PCT's expected run length (expectedChoices), measured once by the command. */
  readonly length: number;
  readonly from: number;
  readonly to: number;
}

export interface CheckBatchResult {
  /** Schedules run (to - from unless a violation or a stop ended the batch early). */
  readonly ran: number;
  /** The first failing schedule of the batch. */
  readonly found: { readonly index: number; readonly violation: Violation } | null;
}

/** Schedules between two turns of the host's event loop. */
const YIELD_EVERY = 16;

/** The last prepared run of this thread, by spec (a worker runs many batches of one run). */
let cached: { key: string; prep: PreparedRun } | null = null;
let hostCostsRead = false;

function prepared(spec: RunSpec): PreparedRun {
  const key = JSON.stringify(spec);
  if (cached?.key !== key) {
    if (spec.options.machine === 'host' && !isMainThread && !hostCostsRead) {
      useHostCosts(process.env, 'cached');
      hostCostsRead = true;
    }
    cached = { key, prep: prepareRun(spec.workload, spec.params, spec.options) };
  }
  return cached.prep;
}

export async function checkJob(b: CheckBatch, ctx: JobContext): Promise<CheckBatchResult> {
  const prep = prepared(b.spec);
  let ran = 0;
  for (let index = b.from; index < b.to; index++) {
    if (ctx.stopped()) break;
    const o = runSchedule(prep, { strategy: b.strategy, depth: b.depth, seed: b.seed, index, keep: null }, b.length);
    ran++;
    ctx.progress({ ran });
    // Now and then, let the host's event loop run (a progress display, Ctrl-C).
    if (ran % YIELD_EVERY === 0) await new Promise<void>((res) => setImmediate(res));
    if (o.violation !== null) return { ran, found: { index, violation: o.violation } };
  }
  return { ran, found: null };
}
