import { describe, expect, it } from 'vitest';
import { Engine, FRAMES, FRAMES_PENDING, PREEMPT, STEP_SYNC, StepFrame, SYNC, TaskState, driveFrame, fifoPolicy, runFrame, type Code, type EngineCosts, type Task } from '../../src/engine/engine.js';
import { SpinLock, WaitQueue } from '../../src/engine/locks.js';
import { RwSemaphore } from '../../src/engine/rwsem.js';
import { COSTS, flatTopo, setup, type Entry } from './helpers.js';

describe('Engine: virtual time', () => {
  it('runs tasks in virtual-time order, whatever order their generators are stepped in', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const stepper = (name: string, step: number, n: number) =>
      function* (t: Task): Code {
        for (let i = 0; i < n; i++) {
          t.cost(step);
          yield SYNC;
          note(name, t);
        }
      };
    spawn('A', stepper('A', 70, 4));
    spawn('B', stepper('B', 100, 3));
    spawn('C', stepper('C', 45, 2));
    eng.run();
    expect(log).toEqual([
      ['C', 45],
      ['A', 70],
      ['C', 90],
      ['B', 100],
      ['A', 140],
      ['B', 200],
      ['A', 210],
      ['A', 280],
      ['B', 300],
    ]);
    expect(eng.now).toBe(300);
  });

  it('stepped one item at a time, runs in the order of run(), with the syncing task queued between steps', () => {
    const stepper = (step: number, n: number) =>
      function* (t: Task): Code {
        for (let i = 0; i < n; i++) {
          t.cost(step);
          yield SYNC;
        }
      };
    const make = () => {
      const s = setup({ cpus: 3 });
      s.spawn('A', stepper(70, 4));
      s.spawn('B', stepper(100, 3));
      s.spawn('C', stepper(45, 2));
      return s;
    };
    const whole = make();
    whole.eng.run();
    const sliced = make();
    const horizons: number[] = [];
    while (sliced.eng.step(1)) horizons.push(sliced.eng.horizon());
    expect(sliced.log).toEqual(whole.log);
    // Between steps the task that has just synced is back in the heap (its time is pending).
    expect(horizons.slice(0, 5)).toEqual([0, 0, 70, 90, 100]);
    expect(sliced.eng.now).toBe(whole.eng.now);
  });

  it('a call (yield t.call(g)) runs as yield* does: the same order, its value in t.ret, nested or from a delegate', () => {
    // leaf: work and sync n times, return its last clock; mid: calls or delegates to two leaves.
    function* leaf(t: Task, step: number, n: number): Code<number> {
      for (let i = 0; i < n; i++) {
        t.cost(step);
        if (t.mustSync()) yield SYNC;
      }
      return t.clock;
    }
    const run = (useCall: boolean) => {
      const s = setup({ cpus: 3 });
      function* mid(t: Task, step: number): Code<number> {
        let a: number;
        if (useCall) {
          yield t.call(leaf(t, step, 3));
          a = t.ret as number;
        } else a = yield* leaf(t, step, 3);
        s.note(`mid${step}:${a}`, t);
        const b = yield* leaf(t, step + 1, 2);
        return a + b;
      }
      const body = (step: number) =>
        function* (t: Task): Code {
          let r: number;
          if (useCall) {
            yield t.call(mid(t, step)); // mid calls leaf in turn: a call inside a call
            r = t.ret as number;
          } else r = yield* mid(t, step);
          function* delegate(): Code<number> {
            // A call made by a generator that is itself run through yield*.
            if (useCall) {
              yield t.call(leaf(t, step, 2));
              return t.ret as number;
            }
            return yield* leaf(t, step, 2);
          }
          const d = yield* delegate();
          s.note(`end${step}:${r}:${d}`, t);
        };
      s.spawn('A', body(70));
      s.spawn('B', body(45));
      s.spawn('C', body(100));
      s.eng.run();
      return { log: s.log, now: s.eng.now, tasks: s.eng.tasks.map((t) => [t.state, t.callers.length, t.clock]) };
    };
    const plain = run(false);
    const called = run(true);
    expect(called).toEqual(plain);
    expect(plain.log.length).toBe(6);
    expect(plain.tasks.every(([state, callers]) => state === TaskState.Done && callers === 0)).toBe(true);
  });

  it('a step function (StepFrame) takes the same steps as its generator: as a call, through runFrame(), calling generators and frames', () => {
    // The generator: work and sync n times, then call a leaf (a generator) and return the sum.
    function* leaf(t: Task, step: number): Code<number> {
      t.cost(step);
      if (t.mustSync()) yield SYNC;
      return t.clock;
    }
    function* gen(t: Task, step: number, n: number, inner: number): Code<number> {
      for (let i = 0; i < n; i++) {
        t.cost(step);
        if (t.mustSync()) yield SYNC;
      }
      const a = yield* leaf(t, step + 3);
      const b = inner > 0 ? yield* gen(t, step + 1, inner, 0) : 0;
      return a + b + n;
    }
    // The same as a frame: its loop counter, where it is and what it called, in fields.
    class Frame extends StepFrame {
      private i = 0;
      private at = 0;
      private a = 0;
      constructor(private readonly step0: number, private readonly n: number, private readonly inner: number, private readonly asFrame: boolean) {
        super();
      }
      step(t: Task): number {
        for (;;) {
          if (this.at === 0) {
            if (this.i === this.n) {
              this.at = 1;
              return t.stepCall(leaf(t, this.step0 + 3));
            }
            this.i++;
            t.cost(this.step0);
            if (t.mustSync()) return STEP_SYNC;
          } else if (this.at === 1) {
            this.a = t.ret as number;
            this.at = 2;
            if (this.inner === 0) t.ret = 0;
            else if (this.asFrame) return t.stepCall(new Frame(this.step0 + 1, this.inner, 0, true));
            else return t.stepCall(gen(t, this.step0 + 1, this.inner, 0));
          } else return this.a + (t.ret as number) + this.n;
        }
      }
    }
    let pending = 0;
    const run = (how: 'generator' | 'call' | 'call-frame' | 'runFrame' | 'drive' | 'drive-frame') => {
      const s = setup({ cpus: 3 });
      const body = (step: number) =>
        function* (t: Task): Code {
          let r: number;
          if (how === 'generator') r = yield* gen(t, step, 3, 2);
          else if (how === 'runFrame') r = yield* runFrame(t, new Frame(step, 3, 2, false));
          else if (how === 'drive' || how === 'drive-frame') {
            r = driveFrame(t, new Frame(step, 3, 2, how === 'drive-frame'));
            if (r === FRAMES_PENDING) {
              pending++;
              yield FRAMES;
              r = t.ret as number;
            }
          } else {
            yield t.call(new Frame(step, 3, 2, how === 'call-frame'));
            r = t.ret as number;
          }
          s.note(`end${step}:${r}`, t);
        };
      s.spawn('A', body(70));
      s.spawn('B', body(45));
      s.spawn('C', body(100));
      s.eng.run();
      return { log: s.log, now: s.eng.now, tasks: s.eng.tasks.map((t) => [t.state, t.callers.length, t.frame, t.clock]) };
    };
    const plain = run('generator');
    expect(plain.log.length).toBe(3);
    expect(plain.tasks.every(([state, callers, frame]) => state === TaskState.Done && callers === 0 && frame === null)).toBe(true);
    for (const how of ['call', 'call-frame', 'runFrame', 'drive', 'drive-frame'] as const) expect(run(how), how).toEqual(plain);
    // Three tasks whose clocks interleave: every driven frame stopped short and the engine went on with it.
    expect(pending).toBe(6);
  });

  it('a frame driven from its generator (driveFrame) runs to its end without the engine when no sync falls due', () => {
    // Frames only (no generator callee): work, a sync point, a nested frame, the sum of the clocks seen.
    class Leaf extends StepFrame {
      private worked = false;
      step(t: Task): number {
        if (!this.worked) {
          this.worked = true;
          t.cost(10);
          if (t.mustSync()) return STEP_SYNC;
        }
        return t.clock;
      }
    }
    class Outer extends StepFrame {
      private at = 0;
      private sum = 0;
      step(t: Task): number {
        for (;;) {
          if (this.at < 3) {
            if (this.at++ > 0) this.sum += t.ret as number;
            return t.stepCall(new Leaf());
          }
          return this.sum + (t.ret as number);
        }
      }
    }
    const run = (cpus: number, tasks: number) => {
      const s = setup({ cpus });
      let pending = 0;
      for (let i = 0; i < tasks; i++)
        s.spawn(`T${i}`, function* (t: Task): Code {
          t.cost(i);
          let r = driveFrame(t, new Outer());
          if (r === FRAMES_PENDING) {
            pending++;
            yield FRAMES;
            r = t.ret as number;
          }
          s.note(`end:${r}`, t);
        });
      s.eng.run();
      return { pending, log: s.log, done: s.eng.tasks.every((t) => t.state === TaskState.Done && t.callers.length === 0 && t.frame === null) };
    };
    // Alone on its CPU: never back to the engine; the leaves' clocks 10 + 20 + 30.
    expect(run(1, 1)).toEqual({ pending: 0, log: [['end:60', 30]], done: true });
    // Two tasks a nanosecond apart: each sync point falls due, and the engine interleaves them.
    const two = run(2, 2);
    expect(two.pending).toBe(2);
    expect(two.log).toEqual([['end:60', 30], ['end:63', 31]]);
    expect(two.done).toBe(true);
  });

  it('a task that spawns later starts at its spawn time', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    spawn('A', function* (t) {
      note('A', t);
    });
    spawn(
      'B',
      function* (t) {
        note('B', t);
      },
      { at: 5000 },
    );
    eng.run();
    expect(log).toEqual([
      ['A', 0],
      ['B', 5000],
    ]);
  });

  it('a task whose clock does not pass the horizon is not made to sync', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const seen: boolean[] = [];
    spawn('A', function* (t) {
      seen.push(t.mustSync()); // B is queued at 0: A at 0 is not beyond it
      t.cost(10);
      seen.push(t.mustSync()); // now it is
      yield SYNC;
      seen.push(t.mustSync()); // B has finished: nothing pending
    });
    spawn('B', function* (t) {
      t.cost(1);
    });
    eng.run();
    expect(seen).toEqual([false, true, false]);
  });
});

describe('Engine: lookahead', () => {
  it('is 0 by default: a task must sync as soon as its clock passes the horizon', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    expect(eng.lookahead).toBe(0);
    const seen: boolean[] = [];
    spawn('A', function* (t) {
      t.cost(1);
      seen.push(t.mustSync());
    });
    spawn('B', function* () {});
    eng.run();
    expect(seen).toEqual([true]);
  });

  it('lets a task run up to lookahead ns past the horizon without syncing', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    eng.lookahead = 100;
    const seen: boolean[] = [];
    spawn('A', function* (t) {
      t.cost(100);
      seen.push(t.mustSync()); // B is pending at 0: 100 <= 0 + 100
      t.cost(1);
      seen.push(t.mustSync());
    });
    spawn('B', function* () {});
    eng.run();
    expect(seen).toEqual([false, true]);
  });

  it('distorts the order of sync points by at most the lookahead, deterministically', () => {
    const run = (lookahead: number): Entry[] => {
      const { eng, log, spawn, note } = setup({ cpus: 4 });
      eng.lookahead = lookahead;
      for (const [name, step, n] of [['A', 70, 6], ['B', 100, 4], ['C', 45, 9], ['D', 33, 12]] as const) {
        spawn(name, function* (t) {
          for (let i = 0; i < n; i++) {
            t.cost(step);
            yield SYNC;
            note(name, t);
          }
        });
      }
      eng.run();
      return log;
    };
    const exact = run(0);
    const times = exact.map((e) => e[1]);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const loose = run(50);
    expect(run(50)).toEqual(loose);
    let maxSoFar = -Infinity;
    for (const [, time] of loose) {
      expect(time).toBeGreaterThanOrEqual(maxSoFar - 50);
      maxSoFar = Math.max(maxSoFar, time);
    }
    expect([...loose].sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))).toEqual(
      [...exact].sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0])),
    );
  });
});

describe('Engine: timers', () => {
  it('fires timers in time order, FIFO among equal times, and cancel() removes one', () => {
    const eng = new Engine(flatTopo(1), COSTS, 1);
    const fired: Entry[] = [];
    eng.at(300, () => fired.push(['c', eng.now]));
    eng.at(100, () => fired.push(['a', eng.now]));
    const gone = eng.at(200, () => fired.push(['never', eng.now]));
    eng.at(100, () => fired.push(['a2', eng.now]));
    eng.cancel(gone);
    eng.run();
    expect(fired).toEqual([
      ['a', 100],
      ['a2', 100],
      ['c', 300],
    ]);
  });

  it('stopAt leaves later items queued; stop() ends the loop after the current item', () => {
    const eng = new Engine(flatTopo(1), COSTS, 1);
    const fired: number[] = [];
    for (const t of [100, 200, 300, 400]) eng.at(t, () => fired.push(t));
    eng.stopAt = 250;
    eng.run();
    expect(fired).toEqual([100, 200]);
    eng.stopAt = Infinity;
    eng.at(350, () => eng.stop());
    eng.run();
    expect(fired).toEqual([100, 200, 300]);
    expect(eng.horizon()).toBe(400);
  });
});

describe('Engine: scheduling', () => {
  it('a task that blocks frees its CPU for a runnable one (1 CPU, 2 tasks)', () => {
    const { eng, log, spawn, note } = setup({ cpus: 1 });
    const wq = new WaitQueue(eng, 'wq');
    let flag = false;
    const a = spawn('A', function* (t) {
      note('A start', t);
      t.cost(100);
      yield* wq.waitEvent(t, () => flag);
      note('A woke', t);
    });
    const b = spawn('B', function* (t) {
      note('B start', t);
      t.cost(500);
      yield SYNC;
      flag = true;
      wq.wakeUp(t.clock);
      note('B done', t);
    });
    expect(eng.runqueue).toEqual([b]); // no CPU for B yet
    eng.run();
    expect(log).toEqual([
      ['A start', 0],
      ['B start', 1100], // A blocked at 100, + context switch
      ['B done', 1600],
      ['A woke', 2600], // queued behind B (no idle CPU), then switched in
    ]);
    expect(a.ctxSwitches).toBe(1); // A blocked once
    expect(eng.ctxSwitches).toBe(2); // A -> B, B (exit) -> A
    expect(eng.stuckTasks()).toEqual([]);
    expect(a.state).toBe(TaskState.Done);
    expect(a.endTime).toBe(2600);
    expect(b.endTime).toBe(1600);
  });

  it('a woken task goes to an idle CPU after the wake-up latency', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const wq = new WaitQueue(eng, 'wq');
    let flag = false;
    spawn('sleeper', function* (t) {
      yield* wq.waitEvent(t, () => flag);
      note('woke', t);
    });
    spawn('waker', function* (t) {
      t.cost(1000);
      yield SYNC;
      flag = true;
      wq.wakeUp(t.clock);
    });
    eng.run();
    expect(log).toEqual([['woke', 1000 + COSTS.wakeupNs]]);
  });

  it('with a wake-up spread, each wake-up takes wakeupNs x (1 + s), s drawn in [-spread, +spread]; without one, wakeupNs and no draw', () => {
    // One sleeper woken 200 times, each wake-up timed from the waker's wake to the sleeper's run.
    const latencies = (costs: Partial<EngineCosts>, seed = 1): number[] => {
      const { eng, spawn } = setup({ cpus: 2, costs, seed });
      const wq = new WaitQueue(eng, 'wq');
      const out: number[] = [];
      let round = 0;
      let wokeAt = 0;
      spawn('sleeper', function* (t) {
        for (let k = 1; k <= 200; k++) {
          yield* wq.waitEvent(t, () => round >= k);
          out.push(t.clock - wokeAt);
        }
      });
      spawn('waker', function* (t) {
        for (let k = 1; k <= 200; k++) {
          t.cost(50_000);
          yield SYNC;
          round = k;
          wokeAt = t.clock;
          wq.wakeUp(t.clock);
        }
      });
      eng.run();
      return out;
    };
    const fixed = latencies({});
    expect(fixed).toHaveLength(200);
    expect(new Set(fixed)).toEqual(new Set([COSTS.wakeupNs]));
    expect(latencies({ wakeupSpread: 0 })).toEqual(fixed);
    const drawn = latencies({ wakeupSpread: 0.5 });
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(COSTS.wakeupNs * 0.5);
    expect(Math.max(...drawn)).toBeLessThanOrEqual(COSTS.wakeupNs * 1.5);
    // Spread over the band, about wakeupNs: each tenth of it holds some of the 200.
    const tenths = new Set(drawn.map((l) => Math.min(9, Math.floor((l / COSTS.wakeupNs - 0.5) * 10))));
    expect(tenths.size).toBe(10);
    const mean = drawn.reduce((a, b) => a + b, 0) / drawn.length;
    expect(mean / COSTS.wakeupNs).toBeCloseTo(1, 1);
    // From the engine's seeded PRNG: the same seed draws the same, another seed others.
    expect(latencies({ wakeupSpread: 0.5 })).toEqual(drawn);
    expect(latencies({ wakeupSpread: 0.5 }, 2)).not.toEqual(drawn);
  });

  it('time-shares one CPU between two CPU-bound tasks that honour shouldPreempt()', () => {
    const { eng, log, spawn, note } = setup({ cpus: 1 });
    const body = (name: string) =>
      function* (t: Task): Code {
        note(`${name} on`, t);
        for (let i = 0; i < 30; i++) {
          t.cost(100_000);
          if (i < 29 && eng.shouldPreempt(t)) {
            yield PREEMPT;
            note(`${name} on`, t);
          } else yield SYNC;
        }
        note(`${name} end`, t);
      };
    const a = spawn('A', body('A'));
    const b = spawn('B', body('B'));
    eng.run();
    expect(log).toEqual([
      ['A on', 0],
      ['B on', 1_001_000],
      ['A on', 2_002_000],
      ['B on', 3_003_000],
      ['A on', 4_004_000],
      ['A end', 5_004_000],
      ['B on', 5_005_000],
      ['B end', 6_005_000],
    ]);
    expect([a.ctxSwitches, b.ctxSwitches]).toEqual([2, 2]);
    expect(eng.ctxSwitches).toBe(5);
    // CPU time: 3 ms each, all user time; the context switches are not charged to either.
    expect([a.userNs, a.sysNs, b.userNs, b.sysNs]).toEqual([3_000_000, 0, 3_000_000, 0]);
  });

  it('shouldPreempt() is false in the kernel, before the slice ends, or with nobody waiting', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const seen: boolean[] = [];
    spawn('A', function* (t) {
      t.cost(COSTS.timesliceNs - 1);
      seen.push(eng.shouldPreempt(t)); // slice not over
      t.cost(1);
      seen.push(eng.shouldPreempt(t)); // over, B waits
      t.enterKernel();
      seen.push(eng.shouldPreempt(t)); // kernel mode is not preemptible
      t.exitKernel();
    });
    spawn('B', function* () {});
    const solo = setup({ cpus: 1 });
    solo.spawn('C', function* (t) {
      t.cost(2 * COSTS.timesliceNs);
      seen.push(solo.eng.shouldPreempt(t)); // nobody waits
    });
    eng.run();
    solo.eng.run();
    expect(seen).toEqual([false, true, false, false]);
  });

  it('more tasks than CPUs: blocked tasks free CPUs, everyone finishes', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const wq = new WaitQueue(eng, 'wq');
    let done = 0;
    const ts = [0, 1, 2, 3, 4].map((i) =>
      spawn(`T${i}`, function* (t) {
        t.cost(100 * (i + 1));
        yield SYNC;
        done++;
        wq.wakeUp(t.clock);
        yield* wq.waitEvent(t, () => done === 5);
      }),
    );
    eng.run();
    expect(eng.stuckTasks()).toEqual([]);
    expect(done).toBe(5);
    expect(ts.every((t) => t.state === TaskState.Done)).toBe(true);
    // Each task other than the last to finish its work blocked at least once.
    expect(ts.filter((t) => t.ctxSwitches > 0).length).toBeGreaterThanOrEqual(4);
    expect(eng.ctxSwitches).toBeGreaterThanOrEqual(4);
  });

  it('a pinned task only runs on its CPU, even when another CPU is idle', () => {
    const { eng, log, spawn } = setup({ cpus: 2 });
    const mark = (name: string, t: Task) => log.push([`${name}@cpu${t.cpu}`, t.clock]);
    const a = spawn(
      'A',
      function* (t) {
        t.cost(500);
        yield SYNC;
        mark('A', t);
      },
      { cpu: 1 },
    );
    const b = spawn(
      'B',
      function* (t) {
        mark('B', t);
      },
      { cpu: 1 },
    );
    spawn('C', function* (t) {
      mark('C', t);
      t.cost(100);
    });
    expect(a.cpu).toBe(1);
    expect(b.cpu).toBe(-1); // CPU 0 is idle, but B may not use it
    eng.run();
    expect(log).toEqual([
      ['C@cpu0', 0],
      ['A@cpu1', 500],
      ['B@cpu1', 1500], // CPU 0 idled from 100 on
    ]);
    expect(b.migrations).toBe(0);
  });

  it('a pinned task woken while its CPU is busy waits for that CPU', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const wq = new WaitQueue(eng, 'wq');
    let flag = false;
    spawn(
      'P',
      function* (t) {
        yield* wq.waitEvent(t, () => flag);
        note(`P on cpu${t.cpu}`, t);
      },
      { cpu: 0 },
    );
    spawn('W', function* (t) {
      // Unpinned, on CPU 1: wakes P at 100, while X holds CPU 0.
      t.cost(100);
      yield SYNC;
      flag = true;
      wq.wakeUp(t.clock);
      t.cost(100);
    });
    spawn('X', function* (t) {
      // Placed on CPU 0 when P blocks; busy until 5000.
      note(`X on cpu${t.cpu}`, t);
      t.cost(4000);
    });
    eng.run();
    expect(log).toEqual([
      ['X on cpu0', 1000], // P blocked at 0, + context switch
      ['P on cpu0', 6000], // X leaves CPU 0 at 5000, + context switch; CPU 1 was idle from 200
    ]);
  });

  it('counts a migration when a task is woken onto another CPU', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const wq = new WaitQueue(eng, 'wq');
    let flag = false;
    const a = spawn('A', function* (t) {
      note(`A on cpu${t.cpu}`, t);
      t.cost(100);
      yield* wq.waitEvent(t, () => flag);
      note(`A on cpu${t.cpu}`, t);
    });
    spawn('B', function* (t) {
      t.cost(500);
      yield SYNC;
      flag = true;
      wq.wakeUp(t.clock);
    });
    spawn('C', function* (t) {
      t.cost(10_000); // takes CPU 0 when A sleeps, and keeps it
    });
    eng.run();
    expect(log).toEqual([
      ['A on cpu0', 0],
      ['A on cpu1', 1500], // woken at 500 with no idle CPU: queued; B exits at 500, + switch
    ]);
    expect(a.migrations).toBe(1);
    expect(eng.migrations).toBe(1);
  });

  it('join() waits for the other task to exit; joining a finished task returns at once', () => {
    const { eng, log, spawn, note } = setup({ cpus: 3 });
    // A syncs before it ends and C before it joins: exit() and join() do not sync by themselves
    // (see the report on engine.ts: without these, B would see A done at virtual time 0).
    const a = spawn('A', function* (t) {
      t.cost(1000);
      yield SYNC;
    });
    const b = spawn('B', function* (t) {
      yield* eng.join(t, a);
      note('B joined', t);
    });
    const c = spawn('C', function* (t) {
      t.cost(5000);
      yield SYNC;
      yield* eng.join(t, a);
      note('C joined', t);
    });
    eng.run();
    expect(log).toEqual([
      ['B joined', 1000 + COSTS.wakeupNs],
      ['C joined', 5000],
    ]);
    expect(b.ctxSwitches).toBe(1);
    expect(c.ctxSwitches).toBe(0);
    expect(a.endTime).toBe(1000);
  });

  it('absorbIrq charges the interrupt time a CPU owes to the task running there', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const clocks: number[] = [];
    spawn('A', function* (t) {
      t.cost(100);
      eng.irqDebt[t.cpu] += 70;
      eng.absorbIrq(t);
      clocks.push(t.clock);
      eng.absorbIrq(t); // paid already
      clocks.push(t.clock, eng.irqDebt[t.cpu]);
    });
    eng.run();
    expect(clocks).toEqual([170, 170, 0]);
  });
});

describe('Engine: stuck tasks', () => {
  it('reports a task blocked forever on a wait queue nobody wakes', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const wq = new WaitQueue(eng, 'never_woken');
    const w = spawn('W', function* (t) {
      yield* wq.waitEvent(t, () => false);
    });
    const ok = spawn('ok', function* (t) {
      t.cost(10);
    });
    eng.run();
    expect(eng.stuckTasks()).toEqual([w]);
    expect(w.state).toBe(TaskState.Blocked);
    expect(w.waitingOn).toBe('never_woken');
    expect(ok.state).toBe(TaskState.Done);
  });

  it('reports a spinner on a lock never released, and a task pinned behind it', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const lock = new SpinLock(eng, 'leaked');
    spawn('leaker', function* (t) {
      yield* lock.lock(t); // exits holding it
    });
    const s = spawn(
      'S',
      function* (t) {
        t.cost(100);
        yield* lock.lock(t);
      },
      { cpu: 1 },
    );
    const p = spawn('P', function* () {}, { cpu: 1 });
    eng.run();
    expect(eng.stuckTasks()).toEqual([s, p]);
    expect(s.state).toBe(TaskState.Spinning);
    expect(s.waitingOn).toBe('leaked');
    expect(p.state).toBe(TaskState.Runnable);
  });

  it('reports a join that never returns (a join cycle)', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const tasks: Task[] = [];
    tasks.push(
      spawn('X', function* (t) {
        yield SYNC;
        yield* eng.join(t, tasks[1]);
      }),
    );
    tasks.push(
      spawn('Y', function* (t) {
        yield SYNC;
        yield* eng.join(t, tasks[0]);
      }),
    );
    eng.run();
    expect(eng.stuckTasks()).toEqual(tasks);
    expect(tasks.map((t) => t.waitingOn)).toEqual(['join Y/101', 'join X/100']);
  });
});

describe('Engine: determinism', () => {
  function scenario(seed: number): { log: Entry[]; ctx: number } {
    const { eng, log, spawn, note } = setup({ cpus: 3, seed, costs: { jitter: 0.3 } });
    const sem = new RwSemaphore(eng, 'sem');
    const spin = new SpinLock(eng, 'spin');
    for (let i = 0; i < 6; i++) {
      spawn(`T${i}`, function* (t) {
        for (let k = 0; k < 5; k++) {
          t.cost(eng.jitter(300) + eng.rng.int(200));
          const write = eng.rng.int(3) === 0;
          if (write) yield* sem.downWrite(t);
          else yield* sem.downRead(t);
          note(`T${i} ${write ? 'w' : 'r'}`, t);
          t.cost(eng.jitter(500));
          if (write) yield* sem.upWrite(t);
          else yield* sem.upRead(t);
          yield* spin.lock(t);
          t.cost(eng.rng.int(100));
          yield* spin.unlock(t);
          note(`T${i} k${k}`, t);
        }
      });
    }
    eng.run();
    expect(eng.stuckTasks()).toEqual([]);
    return { log, ctx: eng.ctxSwitches };
  }

  it('the same seed and bodies give identical logs', () => {
    const a = scenario(12345);
    const b = scenario(12345);
    expect(a.log.length).toBe(60);
    expect(b).toEqual(a);
  });

  it('a different seed gives a different log', () => {
    expect(scenario(1).log).not.toEqual(scenario(2).log);
  });

  it('jitter() is the identity when jitter is 0, and stays within +-jitter otherwise', () => {
    expect(new Engine(flatTopo(1), COSTS, 1).jitter(1234)).toBe(1234);
    const eng = new Engine(flatTopo(1), { ...COSTS, jitter: 0.1 }, 1);
    const xs = Array.from({ length: 1000 }, () => eng.jitter(1000));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1100);
    expect(new Set(xs).size).toBeGreaterThan(900);
  });
});

describe('Engine: user/sys accounting', () => {
  it('splits CPU time at enterKernel/exitKernel', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const a = spawn('A', function* (t) {
      t.cost(100);
      t.enterKernel();
      t.cost(300);
      t.exitKernel();
      t.cost(50);
      t.enterKernel();
      t.cost(7); // exits in the kernel: still sys
    });
    eng.run();
    expect([a.userNs, a.sysNs]).toEqual([150, 307]);
    expect(a.userNs + a.sysNs).toBe(a.endTime - a.startTime);
  });

  it('excludes time blocked and the wake-up latency; a sleep in the kernel charges its switch to idle as sys', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const wq = new WaitQueue(eng, 'wq');
    let flag = false;
    const a = spawn('A', function* (t) {
      t.cost(100);
      t.enterKernel();
      t.cost(100);
      yield* wq.waitEvent(t, () => flag); // blocks at 200 in the kernel
      t.cost(200);
      t.exitKernel();
      t.cost(50);
    });
    spawn('B', function* (t) {
      t.cost(5000);
      yield SYNC;
      flag = true;
      wq.wakeUp(t.clock);
    });
    eng.run();
    // __schedule() to the idle task (contextSwitchNs) is A's, in the kernel; the wake-up is not.
    expect([a.userNs, a.sysNs]).toEqual([150, 300 + COSTS.contextSwitchNs]);
    expect(a.endTime).toBe(5000 + COSTS.wakeupNs + 250);
  });

  it('a task that sleeps with no other to run keeps its CPU through its switch to idle (__schedule())', () => {
    // One CPU. B sleeps at once and hands the CPU to A (a switch between tasks: A starts at
    // contextSwitchNs). A sleeps 500 ns later with nothing else to run: its CPU is A's until the
    // switch to idle is done (runningAt(), what a TLB flush's should_flush_tlb() asks), and B,
    // woken onto that CPU meanwhile with a 100 ns wake-up, starts only then.
    const cs = COSTS.contextSwitchNs;
    const { eng, spawn } = setup({ cpus: 1, costs: { wakeupNs: 100 } });
    const wq = new WaitQueue(eng, 'wq');
    const seen: [number, string | null][] = [];
    const probe = (at: number): void => void eng.at(at, () => seen.push([at, eng.runningAt(0, at)?.comm ?? null]));
    let bStart = -1;
    const b = spawn('B', function* (t) {
      t.enterKernel();
      yield* wq.waitEvent(t, () => bStart === -2);
      bStart = t.clock;
    });
    const a = spawn('A', function* (t) {
      t.cost(500);
      t.enterKernel();
      yield* eng.sleep(t, 10_000, 'test');
    });
    const asleep = cs + 500;
    eng.at(asleep + 100, () => {
      bStart = -2;
      wq.wakeUp(asleep + 100);
    });
    probe(asleep - 1);
    probe(asleep + cs - 1);
    probe(asleep + cs);
    eng.run();
    expect(seen).toEqual([[asleep - 1, 'A'], [asleep + cs - 1, 'A'], [asleep + cs, 'B']]);
    expect(bStart).toBe(asleep + cs);
    expect(b.state).toBe(TaskState.Done);
    // A's switch to idle is its own system time; B's first sleep handed the CPU to A (A's wait).
    expect(a.sysNs).toBe(cs);
  });

  it('counts time spent spinning as CPU time (the spinner holds its CPU)', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const lock = new SpinLock(eng, 'l');
    spawn('H', function* (t) {
      yield* lock.lock(t); // 80 (line from memory)
      t.cost(10_000);
      yield* lock.unlock(t);
    });
    const s = spawn('S', function* (t) {
      t.enterKernel();
      yield* lock.lock(t);
      yield* lock.unlock(t);
      t.exitKernel();
    });
    eng.run();
    expect(s.ctxSwitches).toBe(0);
    expect(s.userNs).toBe(0);
    expect(s.sysNs).toBe(s.endTime - s.startTime);
    expect(s.sysNs).toBeGreaterThan(10_000);
  });
});

describe('Engine: policy', () => {
  it('the default policy is fifoPolicy and honours affinity', () => {
    const eng = new Engine(flatTopo(2), COSTS, 1);
    expect(eng.policy).toBe(fifoPolicy);
    const a = eng.spawn(1, 1, 'a', 0, function* () {}, 1);
    const b = eng.spawn(2, 1, 'b', 0, function* () {});
    expect(fifoPolicy.pickNext([a, b], 0, eng)).toBe(1);
    expect(fifoPolicy.pickNext([a, b], 1, eng)).toBe(0);
    expect(fifoPolicy.pickNext([a], 0, eng)).toBe(-1);
    expect(fifoPolicy.pickCpu(a, [0], eng)).toBe(-1);
    expect(fifoPolicy.pickCpu(a, [0, 1], eng)).toBe(1);
    expect(fifoPolicy.pickCpu(b, [0, 1], eng)).toBe(b.lastCpu);
    expect(fifoPolicy.pickCpu(b, [], eng)).toBe(-1);
  });
});

describe('Engine: a task that never owes a sync', () => {
  /** One task on one CPU passing `points` sync points, 10 ns apart; a timer far in the future. */
  const lone = (points: number): { eng: Engine; seen: number[] } => {
    const eng = new Engine(flatTopo(1), COSTS, 1);
    const seen: number[] = [];
    eng.spawn(1, 1, 'lone', 0, function* (t: Task): Code {
      for (let i = 0; i < points; i++) {
        t.cost(10);
        if (t.mustSync()) yield SYNC;
        seen.push(t.clock);
      }
    });
    eng.at(1e12, () => seen.push(-1));
    return { eng, seen };
  };

  it('syncs unasked now and then, so step() hands control back in slices; the run is the same', () => {
    const whole = lone(20000);
    whole.eng.run();
    const sliced = lone(20000);
    let slices = 0;
    while (sliced.eng.step(Infinity)) slices++;
    // Without the unasked syncs the task is one item from start to end: step() would return once.
    expect(slices).toBeGreaterThanOrEqual(4);
    expect(sliced.seen).toEqual(whole.seen);
    expect(sliced.seen.at(-1)).toBe(-1);
  });

  it('takes none while something watches the sync points (check\'s step log)', () => {
    const { eng } = lone(20000);
    let owed = 0;
    eng.onSyncPoint = () => owed++;
    let slices = 0;
    while (eng.step(Infinity)) slices++;
    expect([slices, owed]).toEqual([0, 0]);
  });
});
