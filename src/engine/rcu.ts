import { BLOCK, SYNC, type Code, type Engine, type Task } from './engine.js';

/**
 * RCU: read-side sections are nearly free (rcu_read_lock is preempt_disable on a non-preemptible
 * kernel); a grace period that starts at time T ends once every task that was inside a read-side
 * section at T has left it, and no earlier than `gpNs` after T (the time for every CPU to pass a
 * quiescent state).
 *
 * Entering and leaving a section touch only the task's own CPU, so they need no sync: each
 * records the task's clock, and a grace period decides who it waits for when its minimum length
 * is over (at T + gpNs, in time order), from those times: a task still inside since before T, or
 * one that left a section it was in at T only after T + gpNs (it ran ahead), holds it up.
 */

interface Reader {
  depth: number;
  /** Clock when the current (outermost) section began. */
  since: number;
  /** The last finished section: when it began and when it ended. */
  lastSince: number;
  lastExit: number;
}

interface GracePeriod {
  readonly start: number;
  readonly minEnd: number;
  /** Readers that were inside at `start` and have not left yet (known once minEnd has passed). */
  readonly waitFor: Set<Task>;
  /** The earliest time it may end: minEnd, or later if a reader it waits for left after it. */
  end: number;
  readonly done: ((time: number) => void)[];
}

export class Rcu {
  private readonly readers = new Map<Task, Reader>();
  /** Grace periods past their minimum length, waiting for readers. */
  private readonly waiting: GracePeriod[] = [];
  gracePeriods = 0;

  constructor(
    private readonly eng: Engine,
    readonly gpNs: number,
  ) {}

  /** rcu_read_lock() where the task has no sync to owe (CPU-local: the clock is recorded). */
  enter(t: Task): void {
    let r = this.readers.get(t);
    if (r === undefined) {
      r = { depth: 0, since: 0, lastSince: 0, lastExit: -1 };
      this.readers.set(t, r);
    }
    if (r.depth++ === 0) r.since = t.clock;
  }

  /** rcu_read_unlock() counterpart of enter(). */
  exit(t: Task): void {
    const r = this.readers.get(t);
    if (r === undefined || r.depth === 0) throw new Error(`rcu_read_unlock() by ${t.comm}/${t.tid} outside a read-side section`);
    if (--r.depth > 0) return;
    r.lastSince = r.since;
    r.lastExit = t.clock;
    for (const gp of this.waiting.slice()) {
      if (!gp.waitFor.delete(t)) continue;
      gp.end = Math.max(gp.end, t.clock);
      if (gp.waitFor.size === 0) this.complete(gp, gp.end);
    }
  }

  /** rcu_read_lock() */
  *readLock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.enter(t);
  }

  /** rcu_read_unlock() */
  *readUnlock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.exit(t);
  }

  inReader(t: Task): boolean {
    return (this.readers.get(t)?.depth ?? 0) > 0;
  }

  /** A grace period from `time`; its callbacks run when it ends. */
  private start(time: number): GracePeriod {
    const gp: GracePeriod = { start: time, minEnd: time + this.gpNs, waitFor: new Set(), end: time + this.gpNs, done: [] };
    this.eng.at(gp.minEnd, () => {
      for (const [t, r] of this.readers) {
        if (r.depth > 0 && r.since <= gp.start) gp.waitFor.add(t);
        else if (r.lastSince <= gp.start && r.lastExit > gp.end) gp.end = r.lastExit;
      }
      if (gp.waitFor.size > 0) this.waiting.push(gp);
      else if (gp.end > gp.minEnd) this.eng.at(gp.end, () => this.complete(gp, gp.end));
      else this.complete(gp, gp.minEnd);
    });
    return gp;
  }

  private complete(gp: GracePeriod, time: number): void {
    const i = this.waiting.indexOf(gp);
    if (i >= 0) this.waiting.splice(i, 1);
    this.gracePeriods++;
    for (const f of gp.done) f(time);
  }

  /** synchronize_rcu(): block until a full grace period has elapsed. */
  *synchronize(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    const gp = this.start(t.clock);
    gp.done.push((time) => this.eng.wake(t, time));
    t.wait = { kind: 'rcu', fn: 'synchronize_rcu' };
    yield BLOCK;
  }

  /**
   * call_rcu(): run `fn` at the end of a grace period that starts now. It only queues a callback
   * on this CPU's list, so it needs no sync (the grace period reads the readers' recorded times).
   */
  callRcu(t: Task, fn: (time: number) => void): void {
    this.start(t.clock).done.push(fn);
  }

  /** call_rcu() as a generator, for callers that sync first. */
  *call(t: Task, fn: (time: number) => void): Code {
    if (t.mustSync()) yield SYNC;
    this.callRcu(t, fn);
  }
}
