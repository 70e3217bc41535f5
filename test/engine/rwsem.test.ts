/**
 * rw_semaphore's era behaviours (src/engine/rwsem.ts, the rwsem_* era keys of src/config/era.ts):
 * each test runs one scene with the behaviour on and off and shows what it changes. The
 * behaviour of a bare RwSemaphore (2.6.33's) is tested in locks.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { TaskState, type Code, type Task } from '../../src/engine/engine.js';
import { RwSemaphore } from '../../src/engine/rwsem.js';
import { MAX_READERS_WAKEUP, RWSEM_2_6, RWSEM_WAIT_TIMEOUT_NS, rspinThresholdNs, type RwsemEra } from '../../src/engine/rwsem-era.js';
import { COSTS, LAT, setup } from './helpers.js';

const XFER = LAT.socket;

function sem4(over: Partial<RwsemEra>, cpus = 4) {
  const s = setup({ cpus });
  const sem = new RwSemaphore(s.eng, 'sem');
  sem.configure({ ...RWSEM_2_6, ...over });
  return { ...s, sem };
}

/** A task that arrives after `arrive` ns, holds the lock for `hold` ns and notes when it got in. */
function holder(sem: RwSemaphore, note: (what: string, t: Task) => void, name: string, arrive: number, hold: number, write: boolean) {
  return function* (t: Task): Code {
    t.cost(arrive);
    if (write) yield* sem.downWrite(t);
    else yield* sem.downRead(t);
    note(`${name} in`, t);
    t.cost(hold);
    if (write) yield* sem.upWrite(t);
    else yield* sem.upRead(t);
    note(`${name} out`, t);
  };
}

const order = (log: [string, number][]) => log.filter(([w]) => w.endsWith(' in')).map(([w]) => w.slice(0, -3));

describe('rwsem_writer_steal (3.9): the woken writer takes the lock itself, and a writer that comes first takes it', () => {
  // W0 holds 0-1130; W1 sleeps from 100; W0's release wakes W1 (on a CPU 2000 ns later); W2
  // arrives at 1400, in between.
  const run = (writerSteal: boolean) => {
    const { eng, log, spawn, note, sem } = sem4({ writerSteal });
    spawn('W0', holder(sem, note, 'W0', 0, 1000, true));
    const w1 = spawn('W1', holder(sem, note, 'W1', 100, 100, true));
    spawn('W2', holder(sem, note, 'W2', 1400, 100, true));
    eng.run();
    return { log, w1 };
  };

  it('y: W2 takes the free lock before the woken W1 runs; W1 finds it free again when it does', () => {
    const { log, w1 } = run(true);
    expect(order(log)).toEqual(['W0', 'W2', 'W1']);
    const at = Object.fromEntries(log);
    expect(at['W2 in']).toBeLessThan(at['W0 out'] + COSTS.wakeupNs);
    expect(at['W1 in']).toBeGreaterThanOrEqual(at['W0 out'] + COSTS.wakeupNs);
    expect(w1.ctxSwitches).toBe(1);
  });

  it('n (2.6.33): W0 grants the lock to W1 as it wakes it; W2 queues behind W1', () => {
    const { log } = run(false);
    expect(order(log)).toEqual(['W0', 'W1', 'W2']);
    const at = Object.fromEntries(log);
    expect(at['W1 in']).toBe(at['W0 out'] + COSTS.wakeupNs);
    expect(at['W2 in']).toBe(at['W1 out'] + COSTS.wakeupNs);
  });

  it('y: rwsem_wake() still wakes the writer at the head when a spinner takes the lock; it finds the lock taken and sleeps again', () => {
    const scene = (writerSteal: boolean) => {
      const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, writerSteal });
      // W0 sleeps holding the lock (400-1400, running again at 3400): W1 arrives meanwhile and
      // sleeps; S arrives at 3600, spins on the running W0 and takes the lock at its release.
      spawn('W0', function* (t) {
        yield* sem.downWrite(t);
        t.cost(400);
        yield* eng.sleep(t, 1000, 'io');
        t.cost(1000);
        yield* sem.upWrite(t);
        note('W0 out', t);
      });
      const w1 = spawn('W1', holder(sem, note, 'W1', 600, 100, true));
      const s = spawn('S', holder(sem, note, 'S', 3600, 3000, true));
      eng.run();
      return { log, w1, s };
    };
    const y = scene(true);
    expect(order(y.log)).toEqual(['S', 'W1']);
    expect([y.w1.ctxSwitches, y.s.ctxSwitches]).toEqual([2, 0]);
    const n = scene(false);
    expect(order(n.log)).toEqual(['S', 'W1']);
    expect([n.w1.ctxSwitches, n.s.ctxSwitches]).toEqual([1, 0]);
  });
});

describe('rwsem_reader_wake (5.3): a release wakes every queued reader, past the queued writers', () => {
  // W0 holds 0-1130; R1, W2 and R3 queue in that order.
  const run = (readerWake: 'head' | 'all') => {
    const { eng, log, spawn, note, sem } = sem4({ readerWake });
    spawn('W0', holder(sem, note, 'W0', 0, 1000, true));
    spawn('R1', holder(sem, note, 'R1', 100, 500, false));
    spawn('W2', holder(sem, note, 'W2', 200, 100, true));
    spawn('R3', holder(sem, note, 'R3', 300, 500, false));
    eng.run();
    return Object.fromEntries(log);
  };

  it('head: R1 only; W2 waits for R1, R3 for W2', () => {
    const at = run('head');
    expect(at['R1 in']).toBe(at['W0 out'] + COSTS.wakeupNs);
    expect(at['W2 in']).toBeGreaterThan(at['R1 out']);
    expect(at['R3 in']).toBeGreaterThan(at['W2 out']);
  });

  it('all: R1 and R3 together at W0\'s release; W2 waits for both', () => {
    const at = run('all');
    expect(at['R1 in']).toBe(at['W0 out'] + COSTS.wakeupNs);
    expect(at['R3 in']).toBe(at['W0 out'] + COSTS.wakeupNs);
    expect(at['W2 in']).toBeGreaterThan(Math.max(at['R1 out'], at['R3 out']));
  });

  it(`all: at most MAX_READERS_WAKEUP (${MAX_READERS_WAKEUP}) readers per release`, () => {
    const { eng, spawn, sem } = sem4({ readerWake: 'all' });
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1_000_000);
      yield* sem.upWrite(t);
    });
    for (let i = 0; i < MAX_READERS_WAKEUP + 10; i++) spawn(`R${i}`, holder(sem, () => {}, `R${i}`, 100 + 10 * i, 100, false));
    let after: number[] = [];
    eng.at(1_000_200, () => (after = [sem.readers, sem.waiters.length]));
    eng.run();
    expect(after).toEqual([MAX_READERS_WAKEUP, 10]);
  });
});

describe('rwsem_reader_optimistic: what a reader does before it queues', () => {
  it('spin (5.3-5.10): a reader spins on a running writer owner and gets in at the release, without sleeping', () => {
    const run = (readerOpt: 'none' | 'spin') => {
      const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, readerOpt });
      spawn('W0', holder(sem, note, 'W0', 0, 1000, true));
      const r = spawn('R', holder(sem, note, 'R', 100, 100, false));
      let state: TaskState | undefined;
      eng.at(600, () => (state = r.state));
      eng.run();
      return { at: Object.fromEntries(log), r, state };
    };
    const spin = run('spin');
    expect(spin.state).toBe(TaskState.Spinning);
    expect(spin.at['R in']).toBe(spin.at['W0 out'] + XFER);
    expect(spin.r.ctxSwitches).toBe(0);
    const none = run('none');
    expect(none.state).toBe(TaskState.Blocked);
    expect(none.at['R in']).toBe(none.at['W0 out'] + COSTS.wakeupNs);
    expect(none.r.ctxSwitches).toBe(1);
  });

  // R0 reads 0-5000; W1 queues at 100 (it may not spin on readers); R2 arrives at 200.
  const joinScene = (readerOpt: 'none' | 'spin' | 'steal') => {
    const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, writerSteal: true, readerOpt });
    spawn('R0', holder(sem, note, 'R0', 0, 5000, false));
    spawn('W1', holder(sem, note, 'W1', 100, 100, true));
    spawn('R2', holder(sem, note, 'R2', 200, 100, false));
    eng.run();
    return Object.fromEntries(log);
  };

  it('spin (5.3-5.10): a reader joins a reader-owned lock ahead of the queued writer', () => {
    const at = joinScene('spin');
    expect(at['R2 in']).toBeLessThan(at['R0 out']);
    expect(at['W1 in']).toBeGreaterThan(at['R2 out']);
  });

  it('none (up to 5.2) and steal (5.11+): the queued writer goes first', () => {
    for (const opt of ['none', 'steal'] as const) {
      const at = joinScene(opt);
      expect(at['W1 in'], opt).toBeGreaterThan(at['R0 out']);
      expect(at['R2 in'], opt).toBeGreaterThan(at['W1 out']);
    }
  });

  it('steal (5.11+): a reader takes the lock nobody holds while the woken writer is on its way', () => {
    // W0 holds 0-1130; W1 sleeps from 100 and is woken at W0's release; R arrives at 1400.
    const run = (readerOpt: 'none' | 'steal') => {
      const { eng, log, spawn, note, sem } = sem4({ writerSteal: true, readerOpt });
      spawn('W0', holder(sem, note, 'W0', 0, 1000, true));
      const w1 = spawn('W1', holder(sem, note, 'W1', 100, 100, true));
      spawn('R', holder(sem, note, 'R', 1400, 3000, false));
      eng.run();
      return { at: Object.fromEntries(log), w1 };
    };
    const steal = run('steal');
    expect(order(Object.entries(steal.at))).toEqual(['W0', 'R', 'W1']);
    expect(steal.at['W1 in']).toBeGreaterThan(steal.at['R out']);
    expect(steal.w1.ctxSwitches).toBe(2); // woken at W0's release, slept again, woken at R's
    const none = run('none');
    expect(order(Object.entries(none.at))).toEqual(['W0', 'W1', 'R']);
    expect(none.w1.ctxSwitches).toBe(1);
  });

  it('spin: after a writer timed out spinning on the readers, readers no longer join: they queue', () => {
    const run = (spinOnReaders: boolean) => {
      const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, writerSteal: true, readerOpt: 'spin', spinOnReaders });
      spawn('R0', holder(sem, note, 'R0', 0, 50_000, false));
      spawn('W1', holder(sem, note, 'W1', 100, 100, true));
      spawn('R2', holder(sem, note, 'R2', 20_000, 100, false));
      let flags: boolean[] = [];
      eng.at(15_000, () => (flags = [sem.rdNonspinnable, sem.wrNonspinnable]));
      eng.run();
      return { at: Object.fromEntries(log), flags };
    };
    const timedOut = run(true);
    expect(timedOut.flags).toEqual([true, true]);
    expect(timedOut.at['W1 in']).toBeGreaterThan(timedOut.at['R0 out']);
    expect(timedOut.at['R2 in']).toBeGreaterThan(timedOut.at['W1 out']);
    const neverSpun = run(false);
    expect(neverSpun.flags).toEqual([false, false]);
    expect(neverSpun.at['R2 in']).toBeLessThan(neverSpun.at['R0 out']);
  });
});

describe('rwsem_spin_on_readers (5.3): a writer spins on a reader-owned lock, for a time', () => {
  it('rspinThresholdNs is rwsem_rspin_threshold(): 10 us + 0.5 us per reader, 25 us from 30 readers on', () => {
    expect([rspinThresholdNs(0), rspinThresholdNs(1), rspinThresholdNs(30), rspinThresholdNs(200)]).toEqual([10_000, 10_500, 25_000, 25_000]);
  });

  it('y: a writer facing a short read section spins and gets in at its end, without sleeping; n: it sleeps', () => {
    const run = (spinOnReaders: boolean) => {
      const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, writerSteal: true, spinOnReaders });
      spawn('R0', holder(sem, note, 'R0', 0, 5000, false));
      const w = spawn('W', holder(sem, note, 'W', 100, 100, true));
      let state: TaskState | undefined;
      eng.at(1000, () => (state = w.state));
      eng.run();
      return { at: Object.fromEntries(log), w, state };
    };
    const y = run(true);
    expect(y.state).toBe(TaskState.Spinning);
    expect(y.at['W in']).toBe(y.at['R0 out'] + XFER);
    expect(y.w.ctxSwitches).toBe(0);
    const n = run(false);
    expect(n.state).toBe(TaskState.Blocked);
    // Woken by R0's release, W takes the lock itself (rwsem_try_write_lock): one more transfer.
    expect(n.at['W in']).toBe(n.at['R0 out'] + COSTS.wakeupNs + XFER);
  });

  it('y: past rspinThresholdNs the writer marks the lock non-spinnable and sleeps; the next writer does not spin', () => {
    const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, writerSteal: true, spinOnReaders: true });
    spawn('R0', holder(sem, note, 'R0', 0, 50_000, false));
    const w1 = spawn('W1', holder(sem, note, 'W1', 100, 100, true));
    const w2 = spawn('W2', holder(sem, note, 'W2', 20_000, 100, true));
    const states: TaskState[][] = [];
    const spinStart = 100 + XFER; // W1's failed fast path: one transfer of the line
    eng.at(spinStart + rspinThresholdNs(1) - 10, () => states.push([w1.state]));
    eng.at(spinStart + rspinThresholdNs(1) + 10, () => states.push([w1.state, Number(sem.wrNonspinnable)]));
    eng.at(20_500, () => states.push([w2.state]));
    eng.run();
    expect(states).toEqual([[TaskState.Spinning], [TaskState.Blocked, 1], [TaskState.Blocked]]);
    const at = Object.fromEntries(log);
    expect(at['W1 in']).toBe(at['R0 out'] + COSTS.wakeupNs + XFER);
  });
});

describe('rwsem_handoff (5.3): a writer kept from the lock for RWSEM_WAIT_TIMEOUT gets it next', () => {
  // A and B take turns holding the lock for 100 us, each spinning on the other (a spinner takes
  // the lock at every release); W sleeps from 500 and is woken at each release to find the lock
  // taken again.
  const run = (handoff: boolean) => {
    const { eng, log, spawn, note, sem } = sem4({ spinOnOwner: true, writerSteal: true, handoff });
    const turns = 60;
    spawn('A', function* (t) {
      yield* sem.downWrite(t);
      yield* eng.sleep(t, 1000, 'io'); // W, arriving now, sees an owner off its CPU and sleeps
      for (let i = 0; i < turns; i++) {
        if (i > 0) yield* sem.downWrite(t);
        t.cost(100_000);
        yield* sem.upWrite(t);
        t.cost(10);
      }
    });
    spawn('B', function* (t) {
      t.cost(5000);
      for (let i = 0; i < turns; i++) {
        yield* sem.downWrite(t);
        t.cost(100_000);
        yield* sem.upWrite(t);
        t.cost(10);
      }
    });
    spawn('W', holder(sem, note, 'W', 500, 100, true));
    eng.run();
    return Object.fromEntries(log);
  };

  it('y: W sets the hand-off bit at its first try past 4 ms and has the lock at the next release', () => {
    const at = run(true);
    expect(at['W in']).toBeGreaterThan(500 + RWSEM_WAIT_TIMEOUT_NS);
    expect(at['W in']).toBeLessThan(500 + RWSEM_WAIT_TIMEOUT_NS + 2 * 100_000 + 2 * COSTS.wakeupNs);
  });

  it('n: W waits until A and B are done (12 ms of turns)', () => {
    const at = run(false);
    expect(at['W in']).toBeGreaterThan(2 * 60 * 100_000);
  });
});

describe('CONFIG_RWSEM_GENERIC_SPINLOCK (x86-64 before 2.6.34): every operation under sem->wait_lock', () => {
  // Four readers arrive at once on four CPUs and hold the lock for 2000 ns.
  const run = (genericSpinlock: boolean) => {
    const { eng, log, spawn, note, sem } = sem4({ genericSpinlock });
    for (const name of ['R0', 'R1', 'R2', 'R3']) spawn(name, holder(sem, note, name, 0, 2000, false));
    eng.run();
    const ins = log.filter(([w]) => w.endsWith(' in')).map(([, at]) => at);
    const firstOut = Math.min(...log.filter(([w]) => w.endsWith(' out')).map(([, at]) => at));
    return { spread: Math.max(...ins) - Math.min(...ins), allInTogether: Math.max(...ins) < firstOut, sem };
  };

  it('y: the readers still share the lock, but come in one wait_lock hand-off after the other', () => {
    const y = run(true);
    const n = run(false);
    expect([y.allInTogether, n.allInTogether]).toEqual([true, true]);
    expect(y.sem.waitLock!.stats.contended).toBe(3);
    expect(n.sem.waitLock).toBeNull();
    // Each reader waits for the one before it to take wait_lock, update the count and drop it.
    expect(y.spread).toBeGreaterThan(n.spread + 3 * 10);
  });

  it('y: no fast path: downReadFast and upReadFast always refuse', () => {
    const { eng, spawn, sem } = sem4({ genericSpinlock: true });
    const seen: boolean[] = [];
    spawn('R', function* (t) {
      seen.push(sem.downReadFast(t));
      yield* sem.downRead(t);
      seen.push(sem.upReadFast(t));
      yield* sem.upRead(t);
    });
    eng.run();
    expect(seen).toEqual([false, false]);
    expect([sem.readers, sem.waitLock!.locked]).toEqual([0, false]);
  });

  it('y: a writer is granted the lock by the last reader out, under wait_lock (2.6.33: __rwsem_wake_one_writer)', () => {
    const { eng, log, spawn, note, sem } = sem4({ genericSpinlock: true });
    spawn('R', holder(sem, note, 'R', 0, 3000, false));
    spawn('W', holder(sem, note, 'W', 500, 100, true));
    eng.run();
    const at = Object.fromEntries(log);
    expect(order(log)).toEqual(['R', 'W']);
    // R grants W (and wakes it) under wait_lock, then drops wait_lock: a local write of the line.
    expect(at['W in']).toBe(at['R out'] - LAT.local + COSTS.wakeupNs);
  });

  // Found by the CLI fuzz test (test/cli/fuzz.test.ts): `--config CONFIG_RWSEM_GENERIC_SPINLOCK=y`
  // alone (rwsem_writer_steal stays y) left page_fault1's munmap writer asleep for ever (exit 3).
  it('y with rwsem_writer_steal=y: the writer is still granted the lock, not left asleep', () => {
    const run = (writerSteal: boolean) => {
      const { eng, log, spawn, note, sem } = sem4({ genericSpinlock: true, writerSteal });
      spawn('R', holder(sem, note, 'R', 0, 3000, false));
      spawn('W', holder(sem, note, 'W', 500, 100, true));
      eng.run();
      return log;
    };
    const steal = run(true);
    expect(order(steal)).toEqual(['R', 'W']);
    expect(steal).toEqual(run(false));
  });
});

describe('interrupt time that reaches a holder delays its release (absorbIrq at up_read/up_write)', () => {
  // H holds the lock 0-1000 for writing; at 500 another CPU's IPI (or a hypervisor's stall of
  // H's vCPU) owes H's CPU 4000 ns; W waits for the lock from 100.
  const run = (irq: number) => {
    const { eng, log, spawn, note, sem } = sem4({});
    const h = spawn('H', function* (t) {
      yield* sem.downWrite(t);
      note('H in', t);
      t.cost(500);
      eng.irqDebt[t.cpu] += irq;
      t.cost(500);
      yield* sem.upWrite(t);
      note('H out', t);
    });
    spawn('W', holder(sem, note, 'W', 100, 100, true));
    eng.run();
    return { at: Object.fromEntries(log), h };
  };

  it('the release, and so the waiter\'s turn, comes the interrupt\'s time later', () => {
    const plain = run(0);
    const hit = run(4000);
    expect(hit.at['H out'] - plain.at['H out']).toBe(4000);
    expect(hit.at['W in'] - plain.at['W in']).toBe(4000);
  });
});
