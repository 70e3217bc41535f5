import { StepFrame, type Task } from '../engine/engine.js';
import type { Rng } from '../engine/rng.js';
import type { Thread } from '../mm/kernel.js';
import { doUserAddrFault, doUserAddrFaultFrame, userAccess, type DoUserAddrFault, type FaultOutcome } from '../mm/access.js';
import type { TouchState } from './interp-state.js';

/**
 * The `touch` statement's loop over pages, the hot loop of every workload: a user access at each
 * address (userAccess()), a page fault where the MMU cannot make it (do_user_addr_fault()), and
 * after a fault the access again. A step function (StepFrame), run by the thread's generator with
 * driveFrame(): the generator is resumed only when the loop stops (before, every fault that
 * synced ended in a resume of threadMain()'s generator, whose many registers a resume restores:
 * on 16 CPUs about one a fault). The loop takes the steps of the fault's frame itself (At.Fault),
 * as that frame takes do_anonymous_page()'s: when the fault syncs, the engine calls this loop's
 * step() again, and no frame is entered or left a fault (each was a trip through the engine's
 * call stack, and made its call of step() meet more classes of frame).
 *
 * step() answers, besides the frame's own STEP_SYNC and STEP_CALL:
 * TOUCH_DONE: every address was accessed; TOUCH_FAULTED: a fault ended in a signal, or the same
 * access faulted more than 64 times (outcome and attempt say which: the generator then kills the
 * process or fails the workload); TOUCH_USER_SYNC: the thread has run a user-mode quantum since it
 * last synced, and the generator syncs (or is preempted) before the loop goes on.
 */
export const TOUCH_DONE = 0;
export const TOUCH_FAULTED = 1;
export const TOUCH_USER_SYNC = 2;

/** Where TouchLoop.step() goes on. */
const enum At {
  Access,
  Fault,
  Faulted,
  Accessed,
  Next,
}

export class TouchLoop extends StepFrame {
  private at = At.Access;
  /** Faults taken at this address so far, less one (as the loop counted them). */
  attempt = 0;
  /** The last fault's answer: null, or the signal it ends in. */
  outcome: FaultOutcome | null = null;
  /**
   * The fault's frame where the engine runs calls (Engine.calls), made ready again for each fault
   * (doUserAddrFaultFrame's `again`); elsewhere null, the fault a generator, its answer in Task.ret.
   */
  private fault: DoUserAddrFault | null = null;

  constructor(
    private readonly th: Thread,
    private readonly st: TouchState,
    private readonly quantum: number,
    private readonly rng: Rng,
  ) {
    super();
  }

  step(t: Task): number {
    const th = this.th;
    const st = this.st;
    for (;;) {
      switch (this.at) {
        case At.Access:
          if (userAccess(th, st.addr, st.write)) {
            this.attempt = 0;
            this.at = At.Accessed;
            break;
          }
          if (t.eng.calls) {
            // The fault's frame: its steps taken from here (At.Fault), not as a call.
            this.fault = doUserAddrFaultFrame(th, st.addr, st.write, st.ip, this.fault);
            this.at = At.Fault;
            break;
          }
          // Where call chains are read off the JS stack: the generator, whose name they show.
          this.at = At.Faulted;
          return t.stepCall(doUserAddrFault(th, st.addr, st.write, st.ip));
        case At.Fault: {
          const r = this.fault!.step(t);
          if (r < 0) return r;
          this.at = At.Faulted;
          break;
        }
        case At.Faulted: {
          this.outcome = t.eng.calls ? this.fault!.outcome : (t.ret as FaultOutcome | null);
          st.lastSync = t.clock;
          if (this.outcome !== null || this.attempt > 64) return TOUCH_FAULTED;
          this.attempt++;
          this.at = At.Access;
          break;
        }
        case At.Accessed:
          this.at = At.Next;
          if (t.clock - st.lastSync > this.quantum) return TOUCH_USER_SYNC;
          break;
        case At.Next:
          if (!touchNext(st, this.rng)) return TOUCH_DONE;
          this.at = At.Access;
          break;
      }
    }
  }
}

/** The address of access st.i: in order (or by stride), or a page drawn at random in the range. */
export function touchAddr(st: TouchState, rng: Rng): number {
  return st.random ? st.base + rng.int(st.pagesInRange) * st.ps : st.base + st.i * st.step;
}

/** Move to the next access; false when the statement is done. */
function touchNext(st: TouchState, rng: Rng): boolean {
  if (++st.i >= st.n) return false;
  st.addr = touchAddr(st, rng);
  return true;
}
