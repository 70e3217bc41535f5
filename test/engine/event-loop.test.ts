/**
 * The event loop's contract (src/engine/event-loop.ts), seen through an Engine: timers leave in
 * (time, insertion) order, a cancelled timer never fires and is never the horizon, stopAt and
 * stop() end the loop and leave the rest queued, and syncAt (what Task.mustSync() reads) is
 * always horizon() + lookahead, whatever changed the heap, the stop time or the lookahead.
 */
import { describe, expect, it } from 'vitest';
import { Engine, SYNC, TaskState, type Code, type Task, type Timer } from '../../src/engine/engine.js';
import { Rng } from '../../src/engine/rng.js';
import { COSTS, flatTopo, setup } from './helpers.js';

/** A bare engine of `ncpus` CPUs (no tasks). */
const bare = (ncpus = 1): Engine => new Engine(flatTopo(ncpus), COSTS, 1);

/** syncAt is the horizon plus the lookahead: the field mustSync() reads agrees with the method. */
function expectSyncAt(eng: Engine, when: string): void {
  expect(eng.syncAt, when).toBe(eng.horizon() + eng.lookahead);
}

describe('EventLoop: order', () => {
  it('fires timers in (time, insertion) order, ties first in first out, at their own time', () => {
    const eng = bare();
    const rng = new Rng(7);
    // 300 timers on 12 distinct times: many ties, queued in no particular order.
    const planned: { id: number; time: number }[] = [];
    for (let id = 0; id < 300; id++) planned.push({ id, time: 100 * rng.int(12) });
    const fired: [number, number][] = [];
    for (const p of planned) eng.at(p.time, () => fired.push([p.id, eng.now]));
    eng.run();
    const expected = [...planned].sort((a, b) => a.time - b.time || a.id - b.id).map((p) => [p.id, p.time]);
    expect(fired).toEqual(expected);
    expect(eng.horizon()).toBe(Infinity);
  });

  it('a timer queued while the loop runs takes its place among the pending ones (after those of its time already queued)', () => {
    const eng = bare();
    const fired: string[] = [];
    eng.at(100, () => {
      fired.push('a');
      eng.at(300, () => fired.push('c2')); // ties with c, queued after it
      eng.at(150, () => fired.push('b'));
      eng.at(100, () => fired.push('a2')); // the same time as the item being processed: next
    });
    eng.at(300, () => fired.push('c'));
    eng.run();
    expect(fired).toEqual(['a', 'a2', 'b', 'c', 'c2']);
  });
});

describe('EventLoop: cancel()', () => {
  it('of the timer at the top: it never fires, and the horizon moves on to the next one at once', () => {
    const eng = bare();
    const fired: number[] = [];
    const timers = [50, 10, 40, 20, 30].map((t) => eng.at(t, () => fired.push(t)));
    expect(eng.horizon()).toBe(10);
    eng.cancel(timers[1]!); // 10: the top
    expect(eng.horizon()).toBe(20);
    expectSyncAt(eng, 'after cancel() of the top');
    eng.run();
    expect(fired).toEqual([20, 30, 40, 50]);
  });

  it('of a timer deep in the heap: it never fires, and horizon() is never its time as the items before it leave', () => {
    const eng = bare();
    const fired: number[] = [];
    const times = Array.from({ length: 40 }, (_, i) => 10 * (i + 1));
    const timers = new Map<number, Timer>();
    // Queued in a scrambled order so that the cancelled ones sit in the middle of the heap.
    for (let i = 0; i < times.length; i++) {
      const t = times[(i * 17) % times.length]!;
      timers.set(t, eng.at(t, () => fired.push(t)));
    }
    const cancelled = new Set([30, 40, 200, 210, 220, 400]);
    for (const t of cancelled) {
      eng.cancel(timers.get(t)!);
      expectSyncAt(eng, `after cancel() of ${t}`);
    }
    expect(eng.horizon()).toBe(10); // none of them was the top
    const horizons: number[] = [];
    while (eng.step(1)) {
      horizons.push(eng.horizon());
      expectSyncAt(eng, `after the item at ${eng.now}`);
    }
    expect(fired).toEqual(times.filter((t) => !cancelled.has(t)));
    expect(horizons.filter((h) => cancelled.has(h))).toEqual([]);
    // The horizon after 20 is 50 (30 and 40 skipped), after 190 it is 230, after 390 nothing.
    expect(horizons[1]).toBe(50);
    expect(horizons[horizons.indexOf(190) + 1]).toBe(230);
    expect(horizons.at(-1)).toBe(Infinity);
  });

  it('a cancelled timer stays cancelled: cancelling it twice, or after an earlier one fired, fires nothing more', () => {
    const eng = bare();
    const fired: number[] = [];
    const a = eng.at(10, () => fired.push(10));
    const b = eng.at(20, () => fired.push(20));
    eng.at(30, () => fired.push(30));
    eng.cancel(b);
    eng.cancel(b);
    eng.step(1);
    eng.cancel(a); // already fired: nothing to take out
    expectSyncAt(eng, 'after cancel() of a fired timer');
    eng.run();
    expect(fired).toEqual([10, 30]);
  });
});

describe('EventLoop: stopAt', () => {
  it('stops the loop before the first item past it; that item stays queued for the next run() once stopAt is raised', () => {
    const eng = bare();
    const fired: number[] = [];
    for (const t of [100, 200, 300, 400]) eng.at(t, () => fired.push(t));
    eng.stopAt = 250;
    expectSyncAt(eng, 'after setting stopAt');
    expect(eng.pastStopAt).toBe(false);
    eng.run();
    expect(fired).toEqual([100, 200]);
    expect(eng.pastStopAt).toBe(true);
    expect(eng.now).toBe(200);
    // The stop time bounds the horizon while the next item is later.
    expect(eng.horizon()).toBe(250);
    expectSyncAt(eng, 'after stopping at stopAt');
    // Another run() without raising it takes nothing.
    eng.run();
    expect(fired).toEqual([100, 200]);
    eng.stopAt = 300; // an item exactly at stopAt still runs
    expect(eng.horizon()).toBe(300);
    eng.run();
    expect(fired).toEqual([100, 200, 300]);
    eng.stopAt = Infinity;
    expect(eng.horizon()).toBe(400);
    expectSyncAt(eng, 'after raising stopAt');
    eng.run();
    expect(fired).toEqual([100, 200, 300, 400]);
  });

  it('holds a task that syncs past it, which goes on from where it was when stopAt is raised', () => {
    const { eng, spawn, log, note } = setup({ cpus: 2 });
    const worker = (step: number) =>
      function* (t: Task): Code {
        for (let i = 0; i < 5; i++) {
          t.cost(step);
          if (t.mustSync()) yield SYNC;
          note(t.comm, t);
        }
      };
    spawn('A', worker(100));
    spawn('B', worker(70));
    eng.stopAt = 260;
    eng.run();
    expect(eng.pastStopAt).toBe(true);
    // Nothing past 260 was done: each task waits at its sync point.
    expect(log.every(([, time]) => time <= 260)).toBe(true);
    const before = log.length;
    expect(eng.horizon()).toBe(260);
    eng.stopAt = Infinity;
    eng.run();
    expect(log.length - before).toBeGreaterThan(0);
    expect(log.filter(([w]) => w === 'A').map(([, time]) => time)).toEqual([100, 200, 300, 400, 500]);
    expect(log.filter(([w]) => w === 'B').map(([, time]) => time)).toEqual([70, 140, 210, 280, 350]);
  });
});

describe('EventLoop: syncAt', () => {
  it('is horizon() + lookahead after every step(1) of tasks and timers, after at(), cancel(), and setting stopAt or the lookahead', () => {
    const { eng, spawn } = setup({ cpus: 3 });
    const rng = new Rng(3);
    const stepper = (n: number) =>
      function* (t: Task): Code {
        for (let i = 0; i < n; i++) {
          t.cost(10 + rng.int(90));
          if (t.mustSync()) yield SYNC;
        }
      };
    for (let i = 0; i < 4; i++) spawn(`T${i}`, stepper(30)); // one more task than CPUs: a run queue
    const timers: Timer[] = [];
    for (let i = 0; i < 20; i++) timers.push(eng.at(50 + 97 * i, () => undefined));
    expectSyncAt(eng, 'after at()');
    eng.lookahead = 25;
    expectSyncAt(eng, 'after setting the lookahead');
    eng.stopAt = 1500;
    expectSyncAt(eng, 'after setting stopAt');
    let steps = 0;
    while (eng.step(1)) {
      steps++;
      expectSyncAt(eng, `after step ${steps} (now ${eng.now})`);
      if (steps === 5) {
        eng.at(eng.now + 1, () => undefined); // becomes the top
        expectSyncAt(eng, 'after at() of the earliest item');
        eng.cancel(timers[10]!);
        expectSyncAt(eng, 'after cancel() deep in the heap');
      }
      if (steps === 9) {
        eng.lookahead = 0;
        expectSyncAt(eng, 'after lowering the lookahead');
      }
    }
    expect(eng.pastStopAt).toBe(true);
    expect(steps).toBeGreaterThan(20);
    eng.stopAt = Infinity;
    expectSyncAt(eng, 'after raising stopAt');
    while (eng.step(1)) expectSyncAt(eng, `after an item at ${eng.now}`);
    expect(eng.tasks.every((t) => t.state === TaskState.Done)).toBe(true);
    expect(eng.horizon()).toBe(Infinity);
    expectSyncAt(eng, 'with nothing left');
  });

  it('is what mustSync() compares a task\'s clock with: a task syncs exactly when its clock passes it', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const seen: [number, number, boolean][] = [];
    spawn('A', function* (t: Task): Code {
      for (let i = 0; i < 6; i++) {
        t.cost(40);
        const must = t.mustSync();
        seen.push([t.clock, eng.syncAt, must]);
        if (must) yield SYNC;
      }
    });
    eng.at(100, () => undefined);
    eng.at(150, () => undefined);
    eng.lookahead = 15;
    eng.run();
    for (const [clock, syncAt, must] of seen) expect(must, `clock ${clock} syncAt ${syncAt}`).toBe(clock > syncAt);
    // The timers made it sync twice: at 120 (> 100 + 15) and at 200 (> 150 + 15).
    expect(seen.filter(([, , must]) => must).map(([clock]) => clock)).toEqual([120, 200]);
  });
});

describe('EventLoop: stop()', () => {
  it('ends the loop at the next item; wasStopped says so, and the rest stays queued', () => {
    const eng = bare();
    const fired: number[] = [];
    for (const t of [100, 200, 300, 400]) eng.at(t, () => fired.push(t));
    eng.at(200, () => eng.stop());
    expect(eng.wasStopped).toBe(false);
    eng.run();
    // The item that called stop() finishes (the timer at 200 queued before it has run); nothing after it.
    expect(fired).toEqual([100, 200]);
    expect(eng.wasStopped).toBe(true);
    expect(eng.pastStopAt).toBe(false);
    expect(eng.horizon()).toBe(300);
    expectSyncAt(eng, 'after stop()');
    // A stopped loop stays stopped.
    expect(eng.step(Infinity)).toBe(false);
    expect(fired).toEqual([100, 200]);
  });

  it('a task that synced as the loop was stopped goes back to the heap, not lost', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    let rounds = 0;
    const a = spawn('A', function* (t: Task): Code {
      for (let i = 0; i < 10; i++) {
        t.cost(100);
        if (t.mustSync()) yield SYNC;
        rounds++;
      }
    });
    eng.at(250, () => eng.stop());
    eng.at(1000, () => undefined);
    eng.run();
    expect(eng.wasStopped).toBe(true);
    // A ran to 300 (it owes a sync there, past the timer at 250), was held, and the stop took effect.
    expect(rounds).toBe(2);
    expect(a.clock).toBe(300);
    expect(eng.horizon()).toBe(300); // A is queued again at its clock
    expectSyncAt(eng, 'after stop() with a held task');
  });
});
