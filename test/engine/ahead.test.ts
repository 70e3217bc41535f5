/**
 * Lock-ahead (src/engine/ahead.ts): a lock taken without its sync, and the checks that find an
 * access the exact order would have put before it (the lock's, a PTE's, a PRNG draw, a tie).
 */
import { describe, expect, it } from 'vitest';
import { AheadViolation, Engine, SYNC, type Code, type Task } from '../../src/engine/engine.js';
import type { SpinLock } from '../../src/engine/locks.js';
import { PteTable } from '../../src/mm/pgtable.js';
import { COSTS, flatTopo, type Entry } from './helpers.js';

/**
 * Two CPUs, costs jittered (as a workload run's), the sync-rule check off (lock-ahead breaks that
 * rule on purpose: setupRun() never turns both on), lock-ahead on.
 */
function setup() {
  const eng = new Engine(flatTopo(2), { ...COSTS, jitter: 0.02 }, 1, { checkSync: false });
  eng.ahead = true;
  const log: Entry[] = [];
  let tid = 100;
  const spawn = (name: string, body: (t: Task) => Code, at: number): Task => eng.spawn(tid++, 1, name, at, body);
  const note = (what: string, t: Task): void => {
    log.push([what, t.clock]);
  };
  return { eng, spawn, log, note };
}

/**
 * Two tasks on two CPUs: `a` starts at 1000 and, once past `b`'s time, takes `lock` ahead of the
 * order (as do_anonymous_page() does) and holds it for 100 ns; `b` starts at `bAt` and then does
 * `bDoes` at its clock. Returns what the run threw (or null) and the log.
 */
function race(bAt: number, bDoes: (t: Task, lock: SpinLock, pt: PteTable) => void, opts: { ahead?: boolean; aDraws?: boolean } = {}) {
  const { eng, spawn, log, note } = setup();
  eng.ahead = opts.ahead ?? true;
  const pt = new PteTable(eng, 512, 0);
  const lock = pt.ptl;
  spawn('a', function* (t: Task): Code {
    if (t.mustSync()) yield SYNC;
    t.cost(10);
    pt.reached(3); // the fault's walk
    const took = pt.takeAhead(t, 3);
    note(took ? 'a ahead' : 'a not ahead', t);
    if (!took) return;
    if (opts.aDraws === true) t.cost(eng.jitter(10));
    t.cost(100);
    if (t.mustSync()) yield SYNC;
    lock.unlockNow(t);
    note('a unlocked', t);
  }, 1000);
  spawn('b', function* (t: Task): Code {
    if (t.mustSync()) yield SYNC;
    bDoes(t, lock, pt);
    note('b done', t);
  }, bAt);
  let thrown: unknown = null;
  try {
    eng.run();
  } catch (e) {
    thrown = e;
  }
  return { thrown, log, eng };
}

describe('lock-ahead', () => {
  it('takes a free lock at once when the task is past another task\'s time, and the run goes on', () => {
    const { thrown, log } = race(1030, (t) => t.cost(1));
    expect(thrown).toBeNull();
    expect(log.map(([w]) => w)).toEqual(['a ahead', 'b done', 'a unlocked']);
  });

  it('is not taken where the run does not allow it (Engine.ahead false)', () => {
    const { thrown, log } = race(1030, (t) => t.cost(1), { ahead: false });
    expect(thrown).toBeNull();
    expect(log[0][0]).toBe('a not ahead');
  });

  it('finds another task taking the lock at an earlier time, processed after', () => {
    // b at 1005 would have taken the lock before a's 1010 in the exact order.
    const { thrown } = race(1005, (t, lock) => {
      lock.lockFast(t);
    });
    expect(thrown).toBeInstanceOf(AheadViolation);
    expect((thrown as AheadViolation).why).toMatch(/ptl taken ahead until 1010 ns, used by b\/101 at 1005 ns/);
  });

  it('lets another task take the lock at a later time than it was taken ahead (it finds it held)', () => {
    const { thrown } = race(1030, (t, lock) => {
      expect(lock.lockFast(t)).toBe(false);
    });
    expect(thrown).toBeNull();
  });

  it('finds a walk to the entry set ahead at an earlier time, and lets one to another entry pass', () => {
    expect(race(1005, (_t, _l, pt) => pt.reached(3)).thrown).toBeInstanceOf(AheadViolation);
    expect(race(1005, (_t, _l, pt) => pt.reached(4)).thrown).toBeNull();
    expect(race(1030, (_t, _l, pt) => pt.reached(3)).thrown).toBeNull();
  });

  it('takes no lock ahead on a table another task has walked to', () => {
    const { log } = race(0, (_t, _l, pt) => pt.reached(9));
    // b walked first (at 0), then a: the table is shared, so a takes the lock the usual way.
    expect(log[1][0]).toBe('a not ahead');
  });

  it('finds a draw from the PRNG in the work taken ahead', () => {
    const { thrown } = race(1030, (t) => t.cost(1), { aDraws: true });
    expect(thrown).toBeInstanceOf(AheadViolation);
    expect((thrown as AheadViolation).why).toMatch(/a\/100 drew from the PRNG/);
  });

  it('finds a running task reaching the time a task that took a lock ahead is queued at', () => {
    // a takes the lock ahead at 1010 (its line from memory: 80 ns) and syncs at 1190, queued; b
    // syncs at exactly 1190 too, and which comes first is the order of their queueing.
    const { eng, spawn } = setup();
    const pt = new PteTable(eng, 512, 0);
    spawn('a', function* (t: Task): Code {
      if (t.mustSync()) yield SYNC;
      t.cost(10);
      pt.reached(0);
      expect(pt.takeAhead(t, 0)).toBe(true);
      t.cost(100);
      expect(t.clock).toBe(1190);
      if (t.mustSync()) yield SYNC;
      pt.ptl.unlockNow(t);
    }, 1000);
    spawn('b', function* (t: Task): Code {
      if (t.mustSync()) yield SYNC;
      t.cost(190);
      if (t.mustSync()) yield SYNC;
      t.cost(1);
    }, 1000);
    expect(() => eng.run()).toThrow(/two things due at 1190 ns/);
  });
});
