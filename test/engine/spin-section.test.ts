/**
 * SpinSection (src/engine/spin-section.ts): spin_lock(); body; spin_unlock() as steps a frame
 * takes for itself; the frame run as a call, through runFrame() or driveFrame(), takes the same
 * steps as the generator `yield* lock.lock(t); body; yield* lock.unlock(t)`.
 */
import { describe, expect, it } from 'vitest';
import { driveFrame, Engine, FRAMES, FRAMES_PENDING, runFrame, StepFrame, SyncRuleError, TaskState, type Code, type Task } from '../../src/engine/engine.js';
import { SpinLock } from '../../src/engine/locks.js';
import { SpinSection } from '../../src/engine/spin-section.js';
import { COSTS, flatTopo, setup, type Entry } from './helpers.js';

/** A frame whose steps are its section's, as do_anonymous_page()'s are while it refills or drains. */
class Owner extends StepFrame {
  constructor(private readonly sec: SpinSection) {
    super();
  }
  step(t: Task): number {
    return this.sec.step(t);
  }
}
const owner = (sec: SpinSection): Owner => new Owner(sec);

/** How a task enters its section: the generator, or its frame as a call, through runFrame(), driven. */
type How = 'generator' | 'call' | 'runFrame' | 'drive';
const FRAME_WAYS = ['call', 'runFrame', 'drive'] as const;

/** What the body answers: the frame's answer. */
const ANSWER = 7;

interface Plan {
  name: string;
  /** When the task starts. */
  at: number;
  /** CPU work before each section. */
  work: number[];
  /** CPU work under the lock. */
  hold: number;
}

/**
 * Run the plans on 4 CPUs, each task entering a section on one SpinLock 'zone->lock' after each
 * of its works. The log notes each body's entry and each section's end at the task's clock.
 */
function run(how: How, plans: Plan[], opts: { spinlock?: 'queued' | 'ticket'; dropSyncs?: boolean } = {}) {
  const eng = new Engine(flatTopo(4), COSTS, 1, { spinlock: opts.spinlock });
  if (opts.dropSyncs === true) eng.dropSync = () => true;
  const lock = new SpinLock(eng, 'zone->lock');
  const log: Entry[] = [];
  const rets: unknown[] = [];
  let tid = 100;
  for (const p of plans) {
    const body = (t: Task): number => {
      log.push([`${p.name} in`, t.clock]);
      t.cost(p.hold);
      return ANSWER;
    };
    // One frame a task (each on its CPU), made ready again for each section.
    const frame = new SpinSection(body);
    eng.spawn(tid++, 1, p.name, p.at, function* (t: Task): Code {
      for (const w of p.work) {
        t.cost(w);
        if (how === 'generator') {
          yield* lock.lock(t);
          body(t);
          yield* lock.unlock(t);
        } else if (how === 'call') {
          yield t.call(owner(frame.begin(lock)));
          rets.push(t.ret);
        } else if (how === 'runFrame') {
          rets.push(yield* runFrame(t, owner(frame.begin(lock))));
        } else {
          let r = driveFrame(t, owner(frame.begin(lock)));
          if (r === FRAMES_PENDING) {
            yield FRAMES;
            r = t.ret as number;
          }
          rets.push(r);
        }
        log.push([`${p.name} out`, t.clock]);
      }
    });
  }
  eng.run();
  return {
    log,
    rets,
    ends: eng.tasks.map((t) => [t.comm, t.state, t.endTime, t.preemptCount, t.ctxSwitches, t.callers.length, t.frame]),
    stats: { ...lock.stats },
    transfers: lock.line.transfers,
    locked: lock.locked,
    now: eng.now,
  };
}

/** Staggered starts, different works between sections: some sections find the lock free, some wait. */
const MIXED: Plan[] = [
  { name: 'A', at: 0, work: [0, 500, 40, 900], hold: 300 },
  { name: 'B', at: 40, work: [120, 20, 700, 10], hold: 150 },
  { name: 'C', at: 90, work: [10, 1500, 5, 5], hold: 420 },
  { name: 'D', at: 150, work: [2500, 60, 60, 3000], hold: 80 },
];

describe('SpinSection: the same steps as spin_lock(); body; spin_unlock() in a generator', () => {
  for (const spinlock of ['queued', 'ticket'] as const) {
    it(`${spinlock}: every task ends at the same time, the lock counts the same, the bodies run in the same order`, () => {
      const gen = run('generator', MIXED, { spinlock });
      // The scenario has sections that wait and sections that do not.
      expect(gen.stats.acquired).toBe(16);
      expect(gen.stats.contended).toBeGreaterThan(0);
      expect(gen.stats.contended).toBeLessThan(16);
      expect(gen.locked).toBe(false);
      expect(gen.ends.every(([, state, , preempt, , callers, frame]) => state === TaskState.Done && preempt === 0 && callers === 0 && frame === null)).toBe(true);
      for (const how of FRAME_WAYS) {
        const f = run(how, MIXED, { spinlock });
        expect(f.log, how).toEqual(gen.log);
        expect(f.ends, how).toEqual(gen.ends);
        expect(f.stats, how).toEqual(gen.stats);
        expect(f.transfers, how).toBe(gen.transfers);
        expect(f.now, how).toBe(gen.now);
        expect(f.locked, how).toBe(false);
      }
    });
  }

  it("the body's answer is the frame's: in t.ret after `yield t.call(frame)`, and runFrame's or driveFrame's answer", () => {
    for (const how of FRAME_WAYS) {
      const f = run(how, MIXED);
      expect(f.rets, how).toEqual(new Array<number>(16).fill(ANSWER));
    }
  });
});

describe('SpinSection: contention', () => {
  // H holds the lock 80-1080; C, A, B arrive at 100, 200, 300 (spawned A, B, C) and spin.
  const HELD: Plan[] = [
    { name: 'H', at: 0, work: [0], hold: 1000 },
    { name: 'A', at: 0, work: [200], hold: 100 },
    { name: 'B', at: 0, work: [300], hold: 100 },
    { name: 'C', at: 0, work: [100], hold: 100 },
  ];

  it('the others wait for the holder and enter in FIFO (arrival) order, at the times of the generator', () => {
    const gen = run('generator', HELD);
    // As in locks.test.ts (SpinLock, FIFO hand-off): each hand-off takes the line, 50 ns.
    expect(gen.log.filter(([w]) => w.endsWith(' in'))).toEqual([
      ['H in', 80],
      ['C in', 1180],
      ['A in', 1331],
      ['B in', 1482],
    ]);
    expect(gen.stats).toEqual({ acquired: 4, contended: 3 });
    for (const how of FRAME_WAYS) {
      const f = run(how, HELD);
      expect(f.log, how).toEqual(gen.log);
      expect(f.ends, how).toEqual(gen.ends);
      expect(f.stats, how).toEqual({ acquired: 4, contended: 3 });
      expect(f.rets, how).toEqual([ANSWER, ANSWER, ANSWER, ANSWER]);
    }
  });

  it('a waiter in its section spins on its CPU, waiting on the lock, until handed it', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const lock = new SpinLock(eng, 'zone->lock');
    const section = (name: string, hold: number) =>
      new SpinSection((t) => {
        note(`${name} in`, t);
        t.cost(hold);
        return ANSWER;
      });
    const h = section('H', 1000);
    spawn('H', function* (t) {
      yield t.call(owner(h.begin(lock)));
    });
    const s = section('W', 100);
    const w = spawn('W', function* (t) {
      t.cost(100);
      yield t.call(owner(s.begin(lock)));
      note(`W ret ${String(t.ret)}`, t);
    });
    let at500: unknown[] = [];
    eng.at(500, () => (at500 = [w.state, w.cpu, w.waitingOn, w.preemptCount, lock.holder?.comm, lock.waiters.length]));
    eng.run();
    expect(at500).toEqual([TaskState.Spinning, 1, 'zone->lock', 1, 'H', 1]);
    expect(log).toEqual([
      ['H in', 80],
      ['W in', 1180], // H's unlock takes the line back (1130), W takes it from H's CPU
      ['W ret 7', 1281],
    ]);
    expect(lock.stats).toEqual({ acquired: 2, contended: 1 });
    expect(w.ctxSwitches).toBe(0);
    expect(w.preemptCount).toBe(0);
  });
});

describe('SpinSection.begin()', () => {
  it('throws, naming the lock, on a section that has not ended', () => {
    const { eng } = setup({ cpus: 1 });
    const lock = new SpinLock(eng, 'zone->lock');
    const f = new SpinSection(() => ANSWER);
    expect(f.begin(lock)).toBe(f);
    expect(() => f.begin(lock)).toThrow(Error);
    expect(() => f.begin(lock)).toThrow(/zone->lock/);
  });

  it('throws from a body that enters its own section again; a section that ended begins again', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const lock = new SpinLock(eng, 'lru_lock');
    let nested = false;
    const f: SpinSection = new SpinSection(() => {
      if (nested) f.begin(lock);
      return ANSWER;
    });
    const rets: unknown[] = [];
    spawn('T', function* (t) {
      for (let i = 0; i < 3; i++) {
        yield t.call(owner(f.begin(lock)));
        rets.push(t.ret);
      }
      nested = true;
      yield t.call(owner(f.begin(lock)));
    });
    expect(() => eng.run()).toThrow(/lru_lock/);
    expect(rets).toEqual([ANSWER, ANSWER, ANSWER]);
  });
});

describe('SpinSection and the sync rule', () => {
  it('a contended run with the check on throws no SyncRuleError', () => {
    expect(setup().eng.checkSync).toBe(true);
    for (const how of FRAME_WAYS) {
      for (const spinlock of ['queued', 'ticket'] as const) expect(() => run(how, MIXED, { spinlock }), `${how} ${spinlock}`).not.toThrow();
    }
  });

  it('the check sees the section: with its syncs dropped, the run throws SyncRuleError on the lock', () => {
    for (const how of FRAME_WAYS) {
      let err: unknown;
      try {
        run(how, MIXED, { dropSyncs: true });
      } catch (e) {
        err = e;
      }
      expect(err, how).toBeInstanceOf(SyncRuleError);
      expect((err as SyncRuleError).line, how).toBe('zone->lock');
    }
  });
});
