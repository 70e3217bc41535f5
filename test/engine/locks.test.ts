import { describe, expect, it } from 'vitest';
import { Engine, SYNC, TaskState, type Code, type EngineCosts, type Task } from '../../src/engine/engine.js';
import { HANDOFF_SHARE } from '../../src/engine/cacheline.js';
import { Atomic, Barrier, RwLock, SeqCount, SpinLock, WaitQueue } from '../../src/engine/locks.js';
import { RwSemaphore } from '../../src/engine/rwsem.js';
import { Rcu } from '../../src/engine/rcu.js';
import { waitsFor } from '../../src/engine/wait.js';
import { COSTS, flatTopo, LAT, setup } from './helpers.js';

// Every lock operation pays a write (or, for a failed trylock, a read) on the lock's cache line.
// On the one-socket topology of setup(): 80 ns for the first touch (memory), 50 ns to take the line
// from another CPU, 1 ns when the CPU already owns it. Transfers of one line are serialised: a
// transfer keeps the line busy for HANDOFF_SHARE of its latency, and the requester pays its wait
// plus the whole latency. A sleeper woken onto an idle CPU runs wakeupNs (2000) later.
const H = HANDOFF_SHARE;
const MEM = LAT.memory; // 80: first touch
const XFER = LAT.socket; // 50: the line from another CPU

describe('RwSemaphore', () => {
  it('many readers share the lock', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    for (const [name, arrive] of [['R1', 100], ['R2', 110], ['R3', 120]] as const) {
      spawn(name, function* (t) {
        t.cost(arrive);
        yield* sem.downRead(t);
        note(`${name} in`, t);
        t.cost(1000);
        yield* sem.upRead(t);
        note(`${name} out`, t);
      });
    }
    eng.run();
    // The three acquisitions queue only on the line (each waits for the hand-offs ahead of it),
    // never on the lock: all three are in before the first leaves, and none is contended.
    const r1In = 100 + MEM; // 180: line from memory, busy until 100 + 80H = 140
    const r2In = 100 + MEM * H + XFER; // 190: R2 (at 110) waits for the line until 140, then 50 from R1's CPU
    const r3In = 100 + MEM * H + XFER * H + XFER; // 215: R3 (at 120) waits until 165
    const r1Out = r1In + 1000 + XFER; // 1230: the line is free again at 1180
    expect(log).toEqual([
      ['R1 in', r1In],
      ['R2 in', r2In],
      ['R3 in', r3In],
      ['R1 out', r1Out],
      ['R2 out', r1In + 1000 + XFER * H + XFER], // 1255: R2 (at 1190) waits for R1's hand-off until 1205
      ['R3 out', r1In + 1000 + 2 * XFER * H + XFER], // 1280: R3 (at 1215) waits until 1230
    ]);
    expect(sem.stats).toEqual({ acquired: 3, contended: 0 });
    expect(sem.readers).toBe(0);
  });

  it('a writer excludes readers; the reader sleeps and is woken by up_write', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    spawn('W', function* (t) {
      yield* sem.downWrite(t);
      note('W in', t);
      expect(sem.writeLocked).toBe(true);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W out', t);
    });
    const r = spawn('R', function* (t) {
      t.cost(100);
      yield* sem.downRead(t);
      note('R in', t);
      yield* sem.upRead(t);
      note('R out', t);
    });
    let midway: unknown[] = [];
    eng.at(500, () => (midway = [r.state, r.waitingOn, r.cpu, sem.waiters.length]));
    eng.run();
    expect(log).toEqual([
      ['W in', 80],
      ['W out', 1130],
      ['R in', 3130], // granted at 1130, + wake-up
      ['R out', 3180],
    ]);
    expect(midway).toEqual([TaskState.Blocked, 'sem (read)', -1, 1]);
    expect(sem.stats).toEqual({ acquired: 2, contended: 1 });
    expect(r.ctxSwitches).toBe(1);
  });

  it('a writer waits for the readers to leave', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    for (const [name, hold] of [['R1', 1000], ['R2', 2000]] as const) {
      spawn(name, function* (t) {
        yield* sem.downRead(t);
        t.cost(hold);
        yield* sem.upRead(t);
        note(`${name} out`, t);
      });
    }
    spawn('W', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('W in', t);
      yield* sem.upWrite(t);
    });
    eng.run();
    // R1 in at 80; R2 at 90 (it waits for the fill's hand-off, 80H = 40, then 50 from R1's CPU);
    // W queues at 150. R1 leaves at 1130, R2 at 2140: W is granted then, and runs after the wake-up.
    const r2Out = MEM * H + XFER + 2000 + XFER;
    expect(log).toEqual([
      ['R1 out', MEM + 1000 + XFER],
      ['R2 out', r2Out],
      ['W in', r2Out + COSTS.wakeupNs],
    ]);
  });

  it('a queued writer blocks new readers (R2 arriving after W waits until W has had the lock)', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'mmap_lock');
    spawn('R1', function* (t) {
      yield* sem.downRead(t);
      note('R1 in', t);
      t.cost(1000);
      yield* sem.upRead(t);
      note('R1 out', t);
    });
    spawn('W', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('W in', t);
      t.cost(500);
      yield* sem.upWrite(t);
      note('W out', t);
    });
    const r2 = spawn('R2', function* (t) {
      t.cost(200);
      yield* sem.downRead(t); // the lock is only read-held, but W waits
      note('R2 in', t);
      yield* sem.upRead(t);
      note('R2 out', t);
    });
    let at1000: unknown[] = [];
    eng.at(1000, () => (at1000 = [sem.readers, sem.waiters.map((w) => `${w.t.comm}:${w.write ? 'w' : 'r'}`), r2.state]));
    eng.run();
    expect(at1000).toEqual([1, ['W:w', 'R2:r'], TaskState.Blocked]);
    expect(log).toEqual([
      ['R1 in', 80],
      ['R1 out', 1130], // grants W
      ['W in', 3130],
      ['W out', 3680], // grants R2
      ['R2 in', 5680],
      ['R2 out', 5730],
    ]);
    expect(sem.stats).toEqual({ acquired: 3, contended: 2 });
  });

  it('release hands the lock to all readers at the head, up to the first writer', () => {
    const { eng, log, spawn, note } = setup({ cpus: 8 });
    const sem = new RwSemaphore(eng, 'sem');
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    // Arrival order while W0 holds: R1, R2, W1, R3.
    const order: [string, boolean, number][] = [
      ['R1', false, 100],
      ['R2', false, 200],
      ['W1', true, 300],
      ['R3', false, 400],
    ];
    for (const [name, write, arrive] of order) {
      spawn(name, function* (t) {
        t.cost(arrive);
        if (write) yield* sem.downWrite(t);
        else yield* sem.downRead(t);
        note(`${name} in`, t);
        t.cost(300);
        if (write) yield* sem.upWrite(t);
        else yield* sem.upRead(t);
        note(`${name} out`, t);
      });
    }
    eng.run();
    const w0Out = MEM + 1000 + XFER; // 1130
    const rIn = w0Out + COSTS.wakeupNs; // 3130
    // R1 and R2 both release at 3430: R2 takes the line first, R1 waits for its hand-off (50H).
    const r1Out = rIn + 300 + XFER * H + XFER; // 3505
    const w1Out = r1Out + COSTS.wakeupNs + 300 + XFER; // 5855
    expect(log).toEqual([
      ['W0 out', w0Out], // wakes R1 and R2 together; W1 and R3 stay queued
      ['R1 in', rIn],
      ['R2 in', rIn],
      ['R2 out', rIn + 300 + XFER],
      ['R1 out', r1Out], // last reader out: grants W1
      ['W1 in', r1Out + COSTS.wakeupNs],
      ['W1 out', w1Out], // grants R3
      ['R3 in', w1Out + COSTS.wakeupNs],
      ['R3 out', w1Out + COSTS.wakeupNs + 300 + XFER],
    ]);
  });

  it('consecutive writers at the head are granted one at a time, in arrival order', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    for (const [name, arrive] of [['A', 0], ['C', 200], ['B', 100]] as const) {
      spawn(name, function* (t) {
        t.cost(arrive);
        yield* sem.downWrite(t);
        note(`${name} in`, t);
        t.cost(100);
        yield* sem.upWrite(t);
      });
    }
    eng.run();
    expect(log.map((e) => e[0])).toEqual(['A in', 'B in', 'C in']);
    // Each holds the lock alone: every entry is after the previous holder's release + wake-up.
    for (let i = 1; i < log.length; i++) expect(log[i][1]).toBeGreaterThanOrEqual(log[i - 1][1] + 100 + COSTS.wakeupNs);
  });

  it('trylock variants return false without blocking when contended, true when free', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    spawn('W', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W out', t);
    });
    const tr = spawn('T', function* (t) {
      t.cost(100);
      const r1 = yield* sem.downReadTrylock(t);
      const r2 = yield* sem.downWriteTrylock(t);
      note(`T ${r1} ${r2}`, t); // a failed trylock reads the line: 50, then a local hit
      t.cost(2000);
      const r3 = yield* sem.downWriteTrylock(t);
      note(`T ${r3}`, t);
      expect(sem.writer).toBe(t);
      yield* sem.upWrite(t);
      const r4 = yield* sem.downReadTrylock(t);
      const r5 = yield* sem.downReadTrylock(t); // readers share
      const r6 = yield* sem.downWriteTrylock(t); // read-held
      note(`T ${r4} ${r5} ${r6} readers=${sem.readers}`, t);
      yield* sem.upRead(t);
      yield* sem.upRead(t);
    });
    eng.run();
    expect(log).toEqual([
      ['T false false', 151],
      ['W out', 1130],
      ['T true', 2201],
      ['T true true false readers=2', 2205], // 1 ns each: upWrite, 2 read trylocks, a failed one
    ]);
    expect(tr.ctxSwitches).toBe(0);
    expect(sem.stats).toEqual({ acquired: 4, contended: 0 });
  });

  it('down_read_trylock fails while a writer is queued, even if the lock is only read-held', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    spawn('R', function* (t) {
      yield* sem.downRead(t);
      t.cost(1000);
      yield* sem.upRead(t);
    });
    spawn('W', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      yield* sem.upWrite(t);
    });
    spawn('T', function* (t) {
      t.cost(500);
      note(`T ${yield* sem.downReadTrylock(t)}`, t);
    });
    eng.run();
    expect(log.map((e) => e[0])).toEqual(['T false']);
  });
});

describe('RwSemaphore fast paths', () => {
  it('downReadFast/upReadFast take and release at once when nothing is in the way', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const sem = new RwSemaphore(eng, 'sem');
    const out: unknown[] = [];
    spawn('T', function* (t) {
      out.push(sem.downReadFast(t), sem.readers, t.clock); // line from memory
      out.push(sem.upReadFast(t), sem.readers, t.clock); // local
    });
    eng.run();
    expect(out).toEqual([true, 1, 80, true, 0, 81]);
    expect(sem.stats).toEqual({ acquired: 1, contended: 0 });
  });

  it('downReadFast fails without cost when write-held, when a writer waits, or when a sync is due', () => {
    const { eng, spawn } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    const out: unknown[] = [];
    spawn('W', function* (t) {
      yield* sem.downWrite(t); // 0 -> 80
      t.cost(1000);
      yield* sem.upWrite(t); // 1130
    });
    spawn('T', function* (t) {
      t.cost(100);
      yield SYNC;
      out.push(sem.downReadFast(t), t.clock); // write-held
      t.cost(5000); // W is pending at 1080: a sync is due
      out.push(t.mustSync(), sem.downReadFast(t), t.clock);
      yield SYNC; // now W has released
      out.push(sem.downReadFast(t), t.clock);
      t.cost(10_000);
      yield SYNC; // V's exit (at 6000) is an event too: let it pass
      out.push(sem.upReadFast(t), sem.readers); // nothing pending any more: no sync due
    });
    spawn('V', function* (t) {
      t.cost(2000);
      yield SYNC; // W has released
      t.cost(4000); // the lock is free, but T is pending at 5100: a sync is due
      out.push('V', t.mustSync(), sem.downReadFast(t), t.clock, sem.readers);
    });
    eng.run();
    expect(out).toEqual([false, 100, true, false, 5100, 'V', true, false, 6000, 0, true, 5150, true, 0]);
  });

  it('upReadFast refuses when a sync is due and leaves the lock held', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const sem = new RwSemaphore(eng, 'sem');
    const out: unknown[] = [];
    spawn('T', function* (t) {
      yield* sem.downRead(t);
      t.cost(500); // U is pending at 0
      out.push(sem.upReadFast(t), sem.readers);
      yield* sem.upRead(t);
      out.push(sem.readers);
    });
    spawn('U', function* (t) {
      t.cost(1000);
      yield SYNC;
    });
    eng.run();
    expect(out).toEqual([false, 1, 0]);
  });

  it('a queued writer also blocks the fast path', () => {
    const { eng, spawn } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    let fast: boolean | undefined;
    spawn('R', function* (t) {
      yield* sem.downRead(t);
      t.cost(1000);
      yield* sem.upRead(t);
    });
    spawn('W', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      yield* sem.upWrite(t);
    });
    spawn('T', function* (t) {
      t.cost(500);
      yield SYNC;
      fast = sem.downReadFast(t);
    });
    eng.run();
    expect(fast).toBe(false);
  });
});

describe('SpinLock', () => {
  it('gives mutual exclusion and hands off to spinners in FIFO (arrival) order', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const lock = new SpinLock(eng, 'ptl');
    let inside = 0;
    let maxInside = 0;
    const crit = function* (t: Task, name: string, hold: number): Code {
      yield* lock.lock(t);
      inside++;
      maxInside = Math.max(maxInside, inside);
      note(`${name} in`, t);
      t.cost(hold);
      inside--;
      yield* lock.unlock(t);
      note(`${name} out`, t);
    };
    spawn('H', function* (t) {
      yield* crit(t, 'H', 1000);
    });
    // Spawn order differs from arrival order: arrivals are C (100), A (200), B (300).
    for (const [name, arrive] of [['A', 200], ['B', 300], ['C', 100]] as const) {
      spawn(name, function* (t) {
        t.cost(arrive);
        yield* crit(t, name, 100);
      });
    }
    eng.run();
    expect(log).toEqual([
      ['H in', 80],
      ['H out', 1130], // the unlock's write, then C takes the line: 1180
      ['C in', 1180],
      ['C out', 1281], // C still owns the line: a 1 ns unlock; A takes it 50 ns later
      ['A in', 1331],
      ['A out', 1432],
      ['B in', 1482],
      ['B out', 1583],
    ]);
    expect(maxInside).toBe(1);
    expect(lock.stats).toEqual({ acquired: 4, contended: 3 });
    expect(lock.locked).toBe(false);
  });

  it('ticket (spinlock=ticket, x86 before 4.2): every spinner re-reads the lock word at each hand-off; the next holder waits for the reads ahead of it', () => {
    // H holds 80-1080; C, A, B arrive at 100, 200, 300 and spin. Each arrival's ticket (a write)
    // and each release invalidate the spinners' copies and they all read the line again.
    const run = (spinlock: 'queued' | 'ticket') => {
      const eng = new Engine(flatTopo(4), COSTS, 1, { spinlock });
      const log: [string, number][] = [];
      const lock = new SpinLock(eng, 'ptl');
      const crit = (name: string, arrive: number, hold: number) =>
        function* (t: Task): Code {
          t.cost(arrive);
          yield* lock.lock(t);
          log.push([`${name} in`, t.clock]);
          t.cost(hold);
          yield* lock.unlock(t);
        };
      eng.spawn(100, 1, 'H', 0, crit('H', 0, 1000));
      eng.spawn(101, 1, 'C', 0, crit('C', 100, 100));
      eng.spawn(102, 1, 'A', 0, crit('A', 200, 100));
      eng.spawn(103, 1, 'B', 0, crit('B', 300, 100));
      eng.run();
      return { log, transfers: lock.line.transfers };
    };
    const queued = run('queued');
    expect(queued.log.map(([w]) => w)).toEqual(['H in', 'C in', 'A in', 'B in']);
    const ticket = run('ticket');
    expect(ticket.log.map(([w]) => w)).toEqual(['H in', 'C in', 'A in', 'B in']);
    // H's release (1080) takes the line back from the spinners (50 ns); then of the three
    // spinners' reads C's comes second: it waits out A's transfer (half of it busy: 25 ns).
    const at = (l: [string, number][], w: string) => l.find(([x]) => x === w)![1];
    expect(at(queued.log, 'C in')).toBe(1180);
    expect(at(ticket.log, 'C in')).toBe(1080 + 50 + 25 + 50);
    expect(at(ticket.log, 'B in') - at(ticket.log, 'C in')).toBeGreaterThan(at(queued.log, 'B in') - at(queued.log, 'C in'));
    expect(ticket.transfers).toBeGreaterThan(queued.transfers);
  });

  it('a spinner keeps its CPU: a task pinned there does not run until the spinner is done', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const lock = new SpinLock(eng, 'l');
    spawn('H', function* (t) {
      yield* lock.lock(t);
      t.cost(10_000);
      yield* lock.unlock(t);
      note('H out', t);
    });
    const s = spawn(
      'S',
      function* (t) {
        t.cost(100);
        yield* lock.lock(t);
        note('S in', t);
        t.cost(100);
        yield* lock.unlock(t);
        note('S out', t);
      },
      { cpu: 1 },
    );
    const x = spawn(
      'X',
      function* (t) {
        note(`X on cpu${t.cpu}`, t);
      },
      { cpu: 1 },
    );
    let at5000: unknown[] = [];
    eng.at(5000, () => (at5000 = [s.state, s.cpu, eng.cpus[1] === s, x.state, s.preemptCount, s.waitingOn]));
    eng.run();
    expect(at5000).toEqual([TaskState.Spinning, 1, true, TaskState.Runnable, 1, 'l']);
    expect(log).toEqual([
      ['H out', 10_130],
      ['S in', 10_180],
      ['S out', 10_281],
      ['X on cpu1', 11_281], // only after S left CPU 1 (+ context switch)
    ]);
    expect(s.ctxSwitches).toBe(0);
    expect(s.preemptCount).toBe(0);
  });

  it('trylock fails while the lock is held and succeeds once it is free', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const lock = new SpinLock(eng, 'l');
    spawn('H', function* (t) {
      yield* lock.lock(t);
      t.cost(1000);
      yield* lock.unlock(t);
      note('H out', t);
    });
    const tr = spawn('T', function* (t) {
      t.cost(100);
      const a = yield* lock.trylock(t);
      note(`T ${a} ${t.preemptCount}`, t);
      t.cost(2000);
      const b = yield* lock.trylock(t);
      note(`T ${b} ${t.preemptCount} ${lock.holder === t}`, t);
      yield* lock.unlock(t);
    });
    eng.run();
    expect(log).toEqual([
      ['T false 0', 150],
      ['H out', 1130],
      ['T true 1 true', 2200],
    ]);
    expect(tr.ctxSwitches).toBe(0);
    expect(lock.stats).toEqual({ acquired: 2, contended: 0 });
  });

  it('lockFast/unlockFast take and release at once when free, refuse when held or a sync is due', () => {
    const { eng, spawn } = setup({ cpus: 3 });
    const lock = new SpinLock(eng, 'l');
    const out: unknown[] = [];
    spawn('H', function* (t) {
      out.push(['H', lock.lockFast(t), t.clock, t.preemptCount]);
      t.cost(1000);
      out.push(['H', t.mustSync(), lock.unlockFast(t), lock.holder === t]); // T pending at 100
      yield* lock.unlock(t);
    });
    spawn('T', function* (t) {
      t.cost(100);
      yield SYNC;
      out.push(['T', lock.lockFast(t), t.clock, t.preemptCount]); // held by H
      t.cost(5000);
      yield SYNC;
      out.push(['T', lock.lockFast(t), t.clock, t.preemptCount]);
      out.push(['T', lock.unlockFast(t), lock.locked, t.preemptCount]);
    });
    spawn('U', function* (t) {
      t.cost(2000);
      yield SYNC; // H has released the lock
      t.cost(4000); // the lock is free, but T is pending at 5100: a sync is due
      out.push(['U', t.mustSync(), lock.lockFast(t), t.clock, t.preemptCount, lock.locked]);
    });
    eng.run();
    expect(out).toEqual([
      ['H', true, 80, 1],
      ['H', true, false, true], // H's first step runs before T's (generators step in heap order)
      ['T', false, 100, 0],
      ['U', true, false, 6000, 0, false],
      ['T', true, 5150, 1],
      ['T', true, false, 0],
    ]);
    expect(lock.stats).toEqual({ acquired: 2, contended: 0 });
  });

  it('lock/unlock balance preemptCount', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const a = new SpinLock(eng, 'a');
    const b = new SpinLock(eng, 'b');
    const counts: number[] = [];
    spawn('T', function* (t) {
      yield* a.lock(t);
      yield* b.lock(t);
      counts.push(t.preemptCount);
      yield* b.unlock(t);
      counts.push(t.preemptCount);
      yield* a.unlock(t);
      counts.push(t.preemptCount);
    });
    eng.run();
    expect(counts).toEqual([2, 1, 0]);
  });

  it('can share a cache line passed in by the caller', () => {
    const { eng } = setup({ cpus: 1 });
    const line = eng.line('struct page');
    const lock = new SpinLock(eng, 'ptl', line);
    expect(lock.line).toBe(line);
  });
});

describe('RwLock (spinning)', () => {
  it('readers share the lock', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const rw = new RwLock(eng, 'rw');
    for (const name of ['R1', 'R2']) {
      spawn(name, function* (t) {
        yield* rw.readLock(t);
        note(`${name} in`, t);
        t.cost(1000);
        yield* rw.readUnlock(t);
      });
    }
    eng.run();
    // R2 waits only for the line (the fill's hand-off, 80H, then 50 from R1's CPU), not for R1 to
    // leave at 1080.
    expect(log).toEqual([
      ['R1 in', MEM],
      ['R2 in', MEM * H + XFER], // 90
    ]);
  });

  it('a queued writer blocks new readers; waiters spin on their CPUs', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const rw = new RwLock(eng, 'tasklist_lock');
    spawn('R1', function* (t) {
      yield* rw.readLock(t);
      note('R1 in', t);
      t.cost(1000);
      yield* rw.readUnlock(t);
      note('R1 out', t);
    });
    const w = spawn('W', function* (t) {
      t.cost(100);
      yield* rw.writeLock(t);
      note('W in', t);
      t.cost(500);
      yield* rw.writeUnlock(t);
      note('W out', t);
    });
    const r2 = spawn('R2', function* (t) {
      t.cost(200);
      yield* rw.readLock(t);
      note('R2 in', t);
      yield* rw.readUnlock(t);
      note('R2 out', t);
    });
    let at1000: unknown[] = [];
    eng.at(1000, () => (at1000 = [w.state, r2.state, w.cpu, r2.cpu, rw.readers]));
    eng.run();
    expect(at1000).toEqual([TaskState.Spinning, TaskState.Spinning, 1, 2, 1]);
    expect(log).toEqual([
      ['R1 in', 80],
      ['R1 out', 1130],
      ['W in', 1180], // a spinner sees the release at once: no wake-up latency
      ['W out', 1681],
      ['R2 in', 1731],
      ['R2 out', 1732],
    ]);
    expect([w.ctxSwitches, r2.ctxSwitches]).toEqual([0, 0]);
    expect([w.preemptCount, r2.preemptCount]).toEqual([0, 0]);
  });
});

describe('SeqCount', () => {
  it('writeBegin makes the count odd, writeEnd even; retry() is true iff a writer passed in between', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const sc = new SeqCount(eng, 'seq');
    const seen: unknown[] = [];
    spawn('W', function* (t) {
      t.cost(500);
      yield* sc.writeBegin(t);
      seen.push(['W begin', sc.seq]);
      t.cost(200);
      yield* sc.writeEnd(t);
      seen.push(['W end', sc.seq]);
    });
    spawn('R', function* (t) {
      t.cost(100);
      const s0 = yield* sc.read(t); // before the writer
      t.cost(500); // ~650: the writer is inside
      const inside = yield* sc.read(t);
      t.cost(1000); // the writer has left
      const moved = yield* sc.retry(t, s0);
      const s1 = yield* sc.read(t);
      const still = yield* sc.retry(t, s1);
      seen.push(['R', s0, inside, moved, s1, still]);
    });
    eng.run();
    expect(seen).toEqual([
      ['W begin', 1],
      ['W end', 2],
      ['R', 0, 1, true, 2, false],
    ]);
  });
});

describe('Atomic', () => {
  it('add returns the new value; incNotZero fails at 0 without change; decAndTest is true at 0', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const a = new Atomic(eng, 'refcount');
    const out: unknown[] = [];
    spawn('T', function* (t) {
      out.push(yield* a.incNotZero(t), a.value); // false, 0
      out.push(yield* a.add(t, 2)); // 2
      out.push(yield* a.incNotZero(t), a.value); // true, 3
      out.push(yield* a.decAndTest(t)); // 2: false
      out.push(yield* a.decAndTest(t)); // 1: false
      out.push(yield* a.decAndTest(t)); // 0: true
      out.push(yield* a.incNotZero(t), a.value); // false, 0
      out.push(yield* a.read(t));
      out.push(t.clock); // 80 for the first touch, then 6 local RMWs and a local read
    });
    eng.run();
    expect(out).toEqual([false, 0, 2, true, 3, false, false, true, false, 0, 0, 87]);
  });

  it('starts from the given value', () => {
    const { eng } = setup({ cpus: 1 });
    expect(new Atomic(eng, 'x', 5).value).toBe(5);
  });
});

describe('WaitQueue', () => {
  it('waitEvent returns at once, without sleeping, when the condition already holds', () => {
    const { eng, log, spawn, note } = setup({ cpus: 1 });
    const wq = new WaitQueue(eng, 'wq');
    const t0 = spawn('T', function* (t) {
      t.cost(10);
      yield* wq.waitEvent(t, () => true);
      note('T', t);
    });
    eng.run();
    expect(log).toEqual([['T', 10]]);
    expect(t0.ctxSwitches).toBe(0);
    expect(wq.active).toBe(false);
  });

  it('wakeUp wakes every waiter; one whose condition is still false sleeps again', () => {
    const { eng, log, spawn, note } = setup({ cpus: 3 });
    const wq = new WaitQueue(eng, 'wq');
    let x = 0;
    spawn('A', function* (t) {
      yield* wq.waitEvent(t, () => x >= 1);
      note('A', t);
    });
    const b = spawn('B', function* (t) {
      yield* wq.waitEvent(t, () => x >= 2);
      note('B', t);
    });
    spawn('W', function* (t) {
      t.cost(1000);
      yield SYNC;
      x = 1;
      wq.wakeUp(t.clock);
      t.cost(4000);
      yield SYNC;
      x = 2;
      wq.wakeUp(t.clock);
    });
    let at4000: unknown[] = [];
    eng.at(4000, () => (at4000 = [wq.waiters.map((w) => w.comm), b.state]));
    eng.run();
    expect(at4000).toEqual([['B'], TaskState.Blocked]);
    expect(log).toEqual([
      ['A', 3000],
      ['B', 7000],
    ]);
    expect(b.ctxSwitches).toBe(2);
    expect(wq.active).toBe(false);
  });

  it('wakeUp with nobody waiting is a no-op', () => {
    const { eng } = setup({ cpus: 1 });
    const wq = new WaitQueue(eng, 'wq');
    wq.wakeUp(0);
    expect(wq.active).toBe(false);
  });
});

describe('Rcu', () => {
  const GP = 10_000;

  it('synchronize() with no readers returns gpNs after it starts (+ wake-up)', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    spawn('S', function* (t) {
      t.cost(100);
      yield* rcu.synchronize(t);
      note('S', t);
    });
    eng.run();
    expect(log).toEqual([['S', 100 + GP + COSTS.wakeupNs]]);
    expect(rcu.gracePeriods).toBe(1);
  });

  it('synchronize() waits for a reader that was inside when it started', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    spawn('R', function* (t) {
      yield* rcu.readLock(t);
      t.cost(50_000);
      yield* rcu.readUnlock(t);
      note('R out', t);
    });
    spawn('S', function* (t) {
      t.cost(100);
      yield* rcu.synchronize(t);
      note('S', t);
    });
    eng.run();
    expect(log).toEqual([
      ['R out', 50_000],
      ['S', 50_000 + COSTS.wakeupNs],
    ]);
  });

  it('a reader that leaves before gpNs does not shorten the grace period', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    spawn('R', function* (t) {
      yield* rcu.readLock(t);
      t.cost(3000);
      yield* rcu.readUnlock(t);
    });
    spawn('S', function* (t) {
      t.cost(100);
      yield* rcu.synchronize(t);
      note('S', t);
    });
    eng.run();
    expect(log).toEqual([['S', 100 + GP + COSTS.wakeupNs]]);
  });

  it('a reader that enters after synchronize() started does not delay it', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    let inReaderAtEnd = false;
    spawn('R', function* (t) {
      t.cost(5000);
      yield* rcu.readLock(t);
      t.cost(50_000);
      inReaderAtEnd = rcu.inReader(t);
      yield* rcu.readUnlock(t);
    });
    spawn('S', function* (t) {
      t.cost(100);
      yield* rcu.synchronize(t);
      note('S', t);
    });
    eng.run();
    expect(log).toEqual([['S', 100 + GP + COSTS.wakeupNs]]);
    expect(inReaderAtEnd).toBe(true);
  });

  it('nested read sections: the reader leaves at the outermost unlock', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    const inside: boolean[] = [];
    spawn('R', function* (t) {
      yield* rcu.readLock(t);
      yield* rcu.readLock(t);
      t.cost(20_000);
      yield* rcu.readUnlock(t); // still inside
      inside.push(rcu.inReader(t));
      t.cost(10_000);
      yield* rcu.readUnlock(t);
      inside.push(rcu.inReader(t));
    });
    spawn('S', function* (t) {
      t.cost(100);
      yield* rcu.synchronize(t);
      note('S', t);
    });
    eng.run();
    expect(inside).toEqual([true, false]);
    expect(log).toEqual([['S', 30_000 + COSTS.wakeupNs]]);
  });

  it('call() runs its callback at the end of a grace period', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    const fired: [string, number][] = [];
    spawn('R', function* (t) {
      yield* rcu.readLock(t);
      t.cost(20_000);
      yield* rcu.readUnlock(t);
    });
    const c = spawn('C', function* (t) {
      t.cost(100);
      yield* rcu.call(t, (time) => fired.push(['delayed', time])); // R is inside
      t.cost(30_000);
      yield* rcu.call(t, (time) => fired.push(['free', time])); // nobody is inside
      fired.push(['C continues', t.clock]);
    });
    eng.run();
    expect(fired).toEqual([
      ['delayed', 20_000],
      ['C continues', 30_100], // call() does not block
      ['free', 30_100 + GP],
    ]);
    expect(c.ctxSwitches).toBe(0);
    expect(rcu.gracePeriods).toBe(2);
  });
});

describe('Barrier', () => {
  it('nobody passes before all parties arrive; it is reusable', () => {
    const { eng, log, spawn, note } = setup({ cpus: 3 });
    const bar = new Barrier(eng, 'b', 3);
    for (const [name, work] of [['A', 100], ['B', 500], ['C', 1000]] as const) {
      spawn(name, function* (t) {
        for (let round = 1; round <= 2; round++) {
          t.cost(work);
          yield* bar.wait(t);
          note(`${name} ${round}`, t);
        }
      });
    }
    const gens: number[] = [];
    eng.at(2000, () => gens.push(bar.generation));
    eng.run();
    gens.push(bar.generation);
    expect(log).toEqual([
      // Round 1: A arrives at 180 (line from memory), B at 550, C (last) at 1050 and goes on.
      ['C 1', 1050],
      ['A 1', 3050],
      ['B 1', 3050],
      // Round 2: C arrives at 2051, A at 3200, B (last) at 3600.
      ['B 2', 3600],
      ['C 2', 5600],
      ['A 2', 5600],
    ]);
    expect(gens).toEqual([1, 2]);
    expect(eng.stuckTasks()).toEqual([]);
  });

  it('cancel() takes a waiter out and wakes it; the others keep waiting', () => {
    const { eng, log, spawn, note } = setup({ cpus: 3 });
    const bar = new Barrier(eng, 'b', 3);
    const [a, b] = ['A', 'B'].map((n) =>
      spawn(n, function* (t) {
        yield* bar.wait(t);
        note(n, t);
      }),
    );
    eng.at(5000, () => {
      bar.cancel(a, 5000);
      bar.cancel(a, 5000); // no longer waiting: a no-op
    });
    // C arrives after the cancel: with A gone, B and C are only two of three.
    const c = spawn('C', function* (t) {
      t.cost(10_000);
      yield* bar.wait(t);
      note('C', t);
    });
    eng.run();
    expect(log).toEqual([['A', 5000 + COSTS.wakeupNs]]);
    expect(eng.stuckTasks()).toEqual([b, c]);
    expect(bar.generation).toBe(0);
  });

  it('a barrier short of parties holds its waiters forever', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const bar = new Barrier(eng, 'b', 3);
    const ts = ['A', 'B'].map((n) =>
      spawn(n, function* (t) {
        yield* bar.wait(t);
      }),
    );
    eng.run();
    expect(eng.stuckTasks()).toEqual(ts);
    expect(ts[0].waitingOn).toBe('barrier b');
    expect(bar.generation).toBe(0);
  });
});

describe('RwSemaphore optimistic spinning (spinOnOwner, CONFIG_RWSEM_SPIN_ON_OWNER)', () => {
  /** A semaphore with writers spinning on a running writer owner. */
  const spinning = (eng: ReturnType<typeof setup>['eng'], name = 'sem'): RwSemaphore => {
    const sem = new RwSemaphore(eng, name);
    sem.spinOnOwner = true;
    return sem;
  };

  it('is off for a bare RwSemaphore', () => {
    const { eng } = setup({ cpus: 1 });
    expect(new RwSemaphore(eng, 'sem').spinOnOwner).toBe(false);
  });

  it('a writer arriving while a running writer holds the lock spins on its CPU and gets it at the release + one line transfer', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    spawn('W0', function* (t) {
      yield* sem.downWrite(t); // 0 -> 80 (line from memory)
      note('W0 in', t);
      t.cost(1000);
      yield* sem.upWrite(t); // S took the line at 100: 50 to take it back
      note('W0 out', t);
    });
    const s = spawn('S', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('S in', t);
      expect(sem.writer).toBe(t);
      t.cost(100);
      yield* sem.upWrite(t);
      note('S out', t);
    });
    let at500: unknown[] = [];
    eng.at(500, () => (at500 = [s.state, s.cpu, eng.cpus[s.cpu] === s, s.waitingOn, sem.waiters.length, sem.writer?.comm]));
    eng.run();
    const w0Out = MEM + 1000 + XFER; // 1130
    expect(at500).toEqual([TaskState.Spinning, 1, true, 'sem (write, spinning on owner)', 0, 'W0']);
    expect(log).toEqual([
      ['W0 in', MEM],
      ['W0 out', w0Out],
      ['S in', w0Out + XFER], // 1180: the spinner sees the release at once, no wake-up (2000)
      ['S out', w0Out + XFER + 100 + LAT.local], // S owns the line: a local release
    ]);
    expect(s.ctxSwitches).toBe(0);
    expect(sem.stats).toEqual({ acquired: 2, contended: 1 });
    expect(sem.writer).toBe(null);
  });

  it('a writer does not spin while tasks wait for a CPU (need_resched): it sleeps and frees its CPU', () => {
    const { eng, log, spawn, note } = setup({ cpus: 2 });
    const sem = spinning(eng);
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    const s = spawn('S', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('S in', t);
      yield* sem.upWrite(t);
    });
    // A third task waits for one of the two CPUs from the start.
    const r = spawn('R', function* (t) {
      t.cost(10);
      note('R ran', t);
    });
    let at500: unknown[] = [];
    eng.at(500, () => (at500 = [s.state, r.state]));
    eng.run();
    // S slept (R took its CPU) and was woken at W0's release.
    expect(at500[0]).toBe(TaskState.Blocked);
    const at = (what: string): number => log.find((e) => e[0] === what)![1];
    expect(log.map((e) => e[0]).sort()).toEqual(['R ran', 'S in', 'W0 out']);
    // Not a spinner's hand-off (one line transfer): S waited for a CPU again after the release.
    expect(at('S in') - at('W0 out')).toBeGreaterThan(10 * XFER);
    expect(s.ctxSwitches).toBeGreaterThan(0);
  });

  it('spinners are handed the lock one after the other, in arrival order, without sleeping', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    const ws: Task[] = [];
    for (const [name, arrive] of [['B', 200], ['A', 100]] as const) {
      ws.push(
        spawn(name, function* (t) {
          t.cost(arrive);
          yield* sem.downWrite(t);
          note(`${name} in`, t);
          t.cost(100);
          yield* sem.upWrite(t);
        }),
      );
    }
    eng.run();
    expect(log.map((e) => e[0])).toEqual(['W0 out', 'A in', 'B in']);
    // A spun on W0, B on W0 then on A (a running owner too): each in one line transfer after the
    // previous holder's release, far below a wake-up.
    expect(log[1]![1] - log[0]![1]).toBe(XFER);
    expect(log[2]![1] - (log[1]![1] + 100)).toBeLessThan(COSTS.wakeupNs);
    expect(ws.map((t) => t.ctxSwitches)).toEqual([0, 0]);
  });

  it('a spinner steals the lock ahead of an earlier-queued sleeping writer and reader', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    // W0 takes the lock and sleeps holding it (an I/O wait, 480-3480): W1 and R, arriving
    // meanwhile, see no running owner and sleep. W0 comes back and runs; W2, arriving then, spins and is handed the
    // lock at W0's release, ahead of the two sleepers.
    const w0 = spawn('W0', function* (t) {
      yield* sem.downWrite(t); // 0 -> 80
      t.cost(400);
      yield* eng.sleep(t, 1000, 'io'); // 480 -> 1480, runs at 3480 (wake-up)
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    const body = (name: string, arrive: number, write: boolean) =>
      function* (t: Task): Code {
        t.cost(arrive);
        if (write) yield* sem.downWrite(t);
        else yield* sem.downRead(t);
        note(`${name} in`, t);
        t.cost(100);
        if (write) yield* sem.upWrite(t);
        else yield* sem.upRead(t);
      };
    const w1 = spawn('W1', body('W1', 600, true));
    const r = spawn('R', body('R', 700, false));
    const w2 = spawn('W2', body('W2', 4000, true));
    let at1000: unknown[] = [];
    let at4200: unknown[] = [];
    const waiters = () => sem.waiters.map((w) => `${w.t.comm}:${w.write ? 'w' : 'r'}`);
    eng.at(1000, () => (at1000 = [w0.state, w1.state, w1.waitingOn, r.state, waiters()]));
    eng.at(4200, () => (at4200 = [w0.state, w2.state, w2.cpu, waiters()]));
    eng.run();
    expect(at1000).toEqual([TaskState.Blocked, TaskState.Blocked, 'sem (write)', TaskState.Blocked, ['W1:w', 'R:r']]);
    expect(at4200).toEqual([TaskState.Running, TaskState.Spinning, 3, ['W1:w', 'R:r']]);
    const w0Out = 480 + 1000 + COSTS.wakeupNs + 1000 + XFER; // 4530: W2 took the line at 4000
    const w2In = w0Out + XFER; // 4580
    const w2Out = w2In + 100 + LAT.local; // 4681: grants W1, the head of the queue
    const w1In = w2Out + COSTS.wakeupNs; // 6681
    const w1Out = w1In + 100 + XFER; // 6831: grants R
    expect(log).toEqual([
      ['W0 out', w0Out],
      ['W2 in', w2In],
      ['W1 in', w1In],
      ['R in', w1Out + COSTS.wakeupNs],
    ]);
    expect([w1.ctxSwitches, r.ctxSwitches, w2.ctxSwitches]).toEqual([1, 1, 0]);
  });

  it('readers never spin: a reader facing a running writer owner sleeps', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    spawn('W', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W out', t);
    });
    const r = spawn('R', function* (t) {
      t.cost(100);
      yield* sem.downRead(t);
      note('R in', t);
    });
    let at500: unknown[] = [];
    eng.at(500, () => (at500 = [r.state, r.cpu, r.waitingOn]));
    eng.run();
    expect(at500).toEqual([TaskState.Blocked, -1, 'sem (read)']);
    expect(log).toEqual([
      ['W out', 1130],
      ['R in', 1130 + COSTS.wakeupNs],
    ]);
    expect(r.ctxSwitches).toBe(1);
  });

  it('a writer facing a reader-owned lock sleeps', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    spawn('R', function* (t) {
      yield* sem.downRead(t); // 0 -> 80
      t.cost(1000);
      yield* sem.upRead(t);
      note('R out', t);
    });
    const w = spawn('W', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('W in', t);
      yield* sem.upWrite(t);
    });
    let at500: unknown[] = [];
    eng.at(500, () => (at500 = [w.state, w.cpu, w.waitingOn, sem.waiters.length]));
    eng.run();
    expect(at500).toEqual([TaskState.Blocked, -1, 'sem (write)', 1]);
    const rOut = MEM + 1000 + XFER; // 1130
    expect(log).toEqual([
      ['R out', rOut],
      ['W in', rOut + COSTS.wakeupNs], // granted at the release, then woken
    ]);
    expect(w.ctxSwitches).toBe(1);
  });

  it('when the owner sleeps the spinners stop spinning, queue in order, and are woken normally', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    const w0 = spawn('W0', function* (t) {
      yield* sem.downWrite(t); // 0 -> 80
      t.cost(420);
      yield* eng.sleep(t, 1000, 'io'); // blocks at 500, runs again at 1500 + 2000
      t.cost(100);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    const spinners: Task[] = [];
    for (const [name, arrive] of [['S1', 100], ['S2', 110]] as const) {
      spinners.push(
        spawn(name, function* (t) {
          t.cost(arrive);
          yield* sem.downWrite(t);
          note(`${name} in`, t);
          t.cost(100);
          yield* sem.upWrite(t);
          note(`${name} out`, t);
        }),
      );
    }
    const [s1, s2] = spinners as [Task, Task];
    let at400: unknown[] = [];
    let at600: unknown[] = [];
    const waiters = () => sem.waiters.map((w) => `${w.t.comm}:${w.write ? 'w' : 'r'}`);
    eng.at(400, () => (at400 = [s1.state, s2.state, waiters()]));
    eng.at(600, () => (at600 = [w0.state, s1.state, s1.cpu, s1.waitingOn, s2.state, s2.cpu, waiters(), eng.cpus[1], eng.cpus[2]]));
    eng.run();
    expect(at400).toEqual([TaskState.Spinning, TaskState.Spinning, []]);
    expect(at600).toEqual([TaskState.Blocked, TaskState.Blocked, -1, 'sem (write)', TaskState.Blocked, -1, ['S1:w', 'S2:w'], null, null]);
    const w0Out = 500 + 1000 + COSTS.wakeupNs + 100 + XFER; // 3650: S2 took the line last
    const s1In = w0Out + COSTS.wakeupNs; // 5650: granted at W0's release, then woken
    const s1Out = s1In + 100 + XFER; // 5800
    expect(log).toEqual([
      ['W0 out', w0Out],
      ['S1 in', s1In],
      ['S1 out', s1Out],
      ['S2 in', s1Out + COSTS.wakeupNs],
      ['S2 out', s1Out + COSTS.wakeupNs + 100 + XFER],
    ]);
    // One context switch each: the stop of the spin (the wake-up itself is not a switch).
    expect([s1.ctxSwitches, s2.ctxSwitches]).toEqual([1, 1]);
    // Spinning, stopping and leaving the CPU keep the per-core count of running tasks exact.
    expect(Array.from(eng.coreBusy).every((n) => n === 0)).toBe(true);
  });

  it('an owner that has released the lock no longer stops spinners when it sleeps', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = spinning(eng);
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t); // hands the lock to A
      yield* eng.sleep(t, 100, 'io'); // must not touch A's spinners
      note('W0 back', t);
    });
    spawn('A', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      t.cost(5000);
      yield* sem.upWrite(t);
      note('A out', t);
    });
    const b = spawn('B', function* (t) {
      t.cost(200);
      yield* sem.downWrite(t); // spins on W0, then on A
      note('B in', t);
    });
    eng.run();
    expect(log.map((e) => e[0])).toEqual(['W0 back', 'A out', 'B in']);
    expect(log[2]![1] - log[1]![1]).toBe(XFER);
    expect(b.ctxSwitches).toBe(0);
  });

  it('an owner of two locks (dup_mmap nests the child mm\'s) that releases the inner one and sleeps still stops the outer one\'s spinners', () => {
    const { eng, spawn } = setup({ cpus: 4 });
    const outer = spinning(eng, 'outer');
    const inner = spinning(eng, 'inner');
    spawn('W0', function* (t) {
      yield* outer.downWrite(t);
      yield* inner.downWrite(t);
      t.cost(300);
      yield* inner.upWrite(t);
      yield* eng.sleep(t, 1000, 'io'); // still owns outer
      yield* outer.upWrite(t);
    });
    const s = spawn('S', function* (t) {
      t.cost(100);
      yield* outer.downWrite(t); // spins on W0, then must sleep when W0 does
      yield* outer.upWrite(t);
    });
    let at800: unknown[] = [];
    eng.at(800, () => (at800 = [s.state, outer.waiters.map((w) => w.t.comm)]));
    eng.run();
    expect(at800).toEqual([TaskState.Blocked, ['S']]);
    expect(s.ctxSwitches).toBe(1);
  });

  it('with spinOnOwner=false nothing spins: the writer sleeps and is granted at the release + a wake-up', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    sem.spinOnOwner = false;
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    const s = spawn('S', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('S in', t);
    });
    const r = spawn('R', function* (t) {
      t.cost(200);
      yield* sem.downRead(t);
      note('R in', t);
      yield* sem.upRead(t);
    });
    let at500: unknown[] = [];
    eng.at(500, () => (at500 = [s.state, s.cpu, s.waitingOn, sem.waiters.map((w) => w.t.comm)]));
    eng.run();
    expect(at500).toEqual([TaskState.Blocked, -1, 'sem (write)', ['S', 'R']]);
    const w0Out = MEM + 1000 + XFER;
    expect(log[0]).toEqual(['W0 out', w0Out]);
    expect(log[1]).toEqual(['S in', w0Out + COSTS.wakeupNs]);
    expect(log.map((e) => e[0])).toEqual(['W0 out', 'S in']); // S never releases: R stays queued
    expect(s.ctxSwitches).toBe(1);
  });
});

describe('wake-ups at a release: the releaser pays ttwuNs per task it wakes (rwsem_wake, wake_up_q)', () => {
  // A value no line cost or wake-up is a multiple of, so a missing or extra ttwuNs shows.
  const TTWU = 600;
  const withTtwu: Partial<EngineCosts> = { ttwuNs: TTWU };

  /** W holds the semaphore 0-1130; R1, R2, R3 arrive at 100, 200, 300 and sleep. */
  const writerToThreeReaders = (costs?: Partial<EngineCosts>) => {
    const { eng, log, spawn, note } = setup({ cpus: 4, costs });
    const sem = new RwSemaphore(eng, 'sem');
    const w = spawn('W', function* (t) {
      yield* sem.downWrite(t); // 0 -> 80 (line from memory)
      t.cost(1000);
      yield* sem.upWrite(t); // 50: R3 took the line at 300
      note('W out', t);
    });
    const rs = (
      [
        ['R1', 100],
        ['R2', 200],
        ['R3', 300],
      ] as const
    ).map(([name, arrive]) =>
      spawn(name, function* (t) {
        t.cost(arrive);
        yield* sem.downRead(t);
        note(`${name} in`, t);
        yield* sem.upRead(t);
        note(`${name} out`, t);
      }),
    );
    eng.run();
    return { eng, log, sem, w, rs };
  };

  const wOut = MEM + 1000 + XFER; // 1130: the release, and the grant to the three readers

  it('without ttwuNs the times are those of before: the three readers are woken together, the releaser pays nothing', () => {
    const { log, sem } = writerToThreeReaders();
    const rIn = wOut + COSTS.wakeupNs; // 3130
    // All three take the line at once at 3130 for their up_read: serialised hand-offs from W's CPU.
    expect(log).toEqual([
      ['W out', wOut],
      ['R1 in', rIn],
      ['R1 out', rIn + XFER],
      ['R2 in', rIn],
      ['R2 out', rIn + XFER * H + XFER],
      ['R3 in', rIn],
      ['R3 out', rIn + 2 * XFER * H + XFER],
    ]);
    expect(sem.stats).toEqual({ acquired: 4, contended: 3 });
    // ttwuNs: 0 is the same as no ttwuNs.
    expect(writerToThreeReaders({ ttwuNs: 0 }).log).toEqual(log);
  });

  it('a writer releasing to 3 sleeping readers pays 3 ttwuNs; the readers get in ttwuNs apart, in queue order', () => {
    const { log, sem, w, rs } = writerToThreeReaders(withTtwu);
    const rIn = (k: number) => wOut + k * TTWU + COSTS.wakeupNs; // 3130, 3730, 4330
    // Each reader is alone on the line by then: one transfer from the previous holder's CPU.
    expect(log).toEqual([
      ['W out', wOut + 3 * TTWU], // 2930
      ['R1 in', rIn(0)],
      ['R1 out', rIn(0) + XFER],
      ['R2 in', rIn(1)],
      ['R2 out', rIn(1) + XFER],
      ['R3 in', rIn(2)],
      ['R3 out', rIn(2) + XFER],
    ]);
    // Exactly 3 ttwuNs more for the releaser than without; the first reader is not delayed.
    const before = writerToThreeReaders().log;
    const at = (l: typeof log, what: string) => l.find((e) => e[0] === what)![1];
    expect(at(log, 'W out') - at(before, 'W out')).toBe(3 * TTWU);
    expect(at(log, 'R1 in')).toBe(at(before, 'R1 in'));
    expect(at(log, 'R2 in') - at(log, 'R1 in')).toBe(TTWU);
    expect(at(log, 'R3 in') - at(log, 'R2 in')).toBe(TTWU);
    // W ran its wake-ups on its own clock: it ends (and exits) 3 ttwuNs later; the readers pay none.
    expect(w.endTime).toBe(wOut + 3 * TTWU);
    expect(rs.map((r) => r.endTime)).toEqual([0, 1, 2].map((k) => rIn(k) + XFER));
    expect(sem.readers).toBe(0);
    expect(sem.stats).toEqual({ acquired: 4, contended: 3 });
  });

  it('only the readers granted are counted: readers ahead of a queued writer, then the last reader out wakes the writer (one ttwuNs)', () => {
    const run = (costs?: Partial<EngineCosts>) => {
      const { eng, log, spawn, note } = setup({ cpus: 4, costs });
      const sem = new RwSemaphore(eng, 'sem');
      spawn('W0', function* (t) {
        yield* sem.downWrite(t);
        t.cost(1000);
        yield* sem.upWrite(t); // grants R1 and R2; W1 stays queued
        note('W0 out', t);
      });
      for (const [name, arrive, write] of [
        ['R1', 100, false],
        ['R2', 200, false],
        ['W1', 300, true],
      ] as const) {
        spawn(name, function* (t) {
          t.cost(arrive);
          if (write) yield* sem.downWrite(t);
          else yield* sem.downRead(t);
          note(`${name} in`, t);
          if (write) yield* sem.upWrite(t);
          else yield* sem.upRead(t);
          note(`${name} out`, t);
        });
      }
      eng.run();
      return log;
    };
    const r1In = wOut + COSTS.wakeupNs; // 3130
    const r2In = r1In + TTWU; // 3730
    const r2Out = r2In + XFER + TTWU; // 4380: the last reader out grants W1 and pays its wake-up
    const w1In = r2In + XFER + COSTS.wakeupNs; // 5780: W1 is woken at R2's release, before R2's ttwuNs
    expect(run(withTtwu)).toEqual([
      ['W0 out', wOut + 2 * TTWU], // two readers granted, not three wake-ups
      ['R1 in', r1In],
      ['R1 out', r1In + XFER], // not the last reader: wakes nobody, pays nothing
      ['R2 in', r2In],
      ['R2 out', r2Out],
      ['W1 in', w1In],
      ['W1 out', w1In + XFER], // nobody queued: nothing to pay
    ]);
    // Without ttwuNs: R1 and R2 together at 3130, R2 last out (after R1's hand-off) wakes W1.
    const r2OutOld = r1In + XFER * H + XFER; // 3205
    expect(run()).toEqual([
      ['W0 out', wOut],
      ['R1 in', r1In],
      ['R1 out', r1In + XFER],
      ['R2 in', r1In],
      ['R2 out', r2OutOld],
      ['W1 in', r2OutOld + COSTS.wakeupNs],
      ['W1 out', r2OutOld + COSTS.wakeupNs + XFER],
    ]);
  });

  it('a writer granted to a sleeping writer costs the releaser one ttwuNs; the woken writer is not delayed', () => {
    const run = (costs?: Partial<EngineCosts>) => {
      const { eng, log, spawn, note } = setup({ cpus: 4, costs });
      const sem = new RwSemaphore(eng, 'sem');
      spawn('W0', function* (t) {
        yield* sem.downWrite(t);
        t.cost(1000);
        yield* sem.upWrite(t);
        note('W0 out', t);
      });
      const w1 = spawn('W1', function* (t) {
        t.cost(100);
        yield* sem.downWrite(t); // spinOnOwner is off: W1 sleeps
        note('W1 in', t);
        yield* sem.upWrite(t);
        note('W1 out', t);
      });
      eng.run();
      return { log, w1 };
    };
    const w1In = wOut + COSTS.wakeupNs; // 3130
    const { log, w1 } = run(withTtwu);
    expect(log).toEqual([
      ['W0 out', wOut + TTWU],
      ['W1 in', w1In],
      ['W1 out', w1In + XFER],
    ]);
    expect(w1.ctxSwitches).toBe(1);
    expect(run().log).toEqual([
      ['W0 out', wOut],
      ['W1 in', w1In],
      ['W1 out', w1In + XFER],
    ]);
  });

  it('a hand-off to a writer spinning on the owner wakes nobody: no ttwuNs', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4, costs: withTtwu });
    const sem = new RwSemaphore(eng, 'sem');
    sem.spinOnOwner = true;
    spawn('W0', function* (t) {
      yield* sem.downWrite(t);
      t.cost(1000);
      yield* sem.upWrite(t);
      note('W0 out', t);
    });
    spawn('S', function* (t) {
      t.cost(100);
      yield* sem.downWrite(t);
      note('S in', t);
      yield* sem.upWrite(t);
      note('S out', t);
    });
    eng.run();
    // As in the optimistic spinning tests, without any ttwuNs.
    expect(log).toEqual([
      ['W0 out', wOut],
      ['S in', wOut + XFER],
      ['S out', wOut + XFER + LAT.local],
    ]);
  });

  it('RwLock (spinning) grants are unaffected by ttwuNs', () => {
    const run = (costs?: Partial<EngineCosts>) => {
      const { eng, log, spawn, note } = setup({ cpus: 4, costs });
      const rw = new RwLock(eng, 'rw');
      spawn('W0', function* (t) {
        yield* rw.writeLock(t);
        t.cost(1000);
        yield* rw.writeUnlock(t); // hands the lock to R1 and R2 together
        note('W0 out', t);
      });
      for (const [name, arrive, write] of [
        ['R1', 100, false],
        ['R2', 200, false],
        ['W1', 300, true],
      ] as const) {
        spawn(name, function* (t) {
          t.cost(arrive);
          if (write) yield* rw.writeLock(t);
          else yield* rw.readLock(t);
          note(`${name} in`, t);
          t.cost(100);
          if (write) yield* rw.writeUnlock(t);
          else yield* rw.readUnlock(t);
          note(`${name} out`, t);
        });
      }
      eng.run();
      return log;
    };
    const log = run();
    expect(run(withTtwu)).toEqual(log);
    // The spinners see the release at once: no wake-up latency and nothing for the releaser.
    expect(log[0]).toEqual(['W0 out', wOut]);
    expect(log.map((e) => e[0])).toEqual(['W0 out', 'R1 in', 'R2 in', 'R1 out', 'R2 out', 'W1 in', 'W1 out']);
    expect(log.find((e) => e[0] === 'R1 in')![1]).toBe(wOut + XFER);
  });
});

describe('Rcu read-side sections without syncs (enter/exit, callRcu)', () => {
  const GP = 10_000;

  it('a reader that ran ahead and left after the minimum still holds the grace period up', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    const fired: number[] = [];
    // R enters at 0 and leaves at 30 000 without syncing: in host order it has left before C's
    // call_rcu at 100 runs, yet it was inside at 100.
    spawn('R', function* (t) {
      rcu.enter(t);
      t.cost(30_000);
      rcu.exit(t);
      yield SYNC;
    });
    spawn('C', function* (t) {
      t.cost(100);
      yield SYNC;
      rcu.callRcu(t, (time) => fired.push(time));
    });
    eng.run();
    expect(fired).toEqual([30_000]);
  });

  it('a section that began after the grace period started does not hold it up', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const rcu = new Rcu(eng, GP);
    const fired: number[] = [];
    spawn('R', function* (t) {
      t.cost(500);
      yield SYNC;
      rcu.enter(t);
      t.cost(30_000);
      rcu.exit(t);
    });
    spawn('C', function* (t) {
      t.cost(100);
      yield SYNC;
      rcu.callRcu(t, (time) => fired.push(time));
    });
    eng.run();
    expect(fired).toEqual([100 + GP]);
  });

  it('rcu_read_unlock() outside a section is an error', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const rcu = new Rcu(eng, GP);
    spawn('R', function* (t) {
      rcu.exit(t);
    });
    expect(() => eng.run()).toThrow(/rcu_read_unlock\(\) by R\/100 outside a read-side section/);
  });
});

describe('wait reasons', () => {
  it('a lock wait names the lock, the primitive and the holder', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    const sem = new RwSemaphore(eng, 'mmap_lock(1)');
    const w = spawn('W', function* (t) {
      yield* sem.downWrite(t); // exits holding it
    });
    const r = spawn('R', function* (t) {
      t.cost(100);
      yield* sem.downRead(t);
    });
    eng.run();
    expect(r.wait).toMatchObject({ kind: 'lock', fn: 'down_read', mode: 'read' });
    expect(waitsFor(r.wait)).toBe(w);
    expect(r.waitingOn).toBe('mmap_lock(1) (read)');
  });

  it('a wait-queue wait names the queue, the object and the kernel function', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    const wq = new WaitQueue(eng, 'vma->wait_queue');
    const t0 = spawn('T', function* (t) {
      yield* wq.waitEvent(t, () => false, { object: 'VMA 1000-2000', fn: 'invalidate_vma_before_free' });
    });
    eng.run();
    expect(t0.wait).toEqual({ kind: 'queue', queue: 'vma->wait_queue', object: 'VMA 1000-2000', fn: 'invalidate_vma_before_free' });
    expect(t0.waitingOn).toBe('vma->wait_queue of VMA 1000-2000 in invalidate_vma_before_free()');
    expect(waitsFor(t0.wait)).toBeNull();
  });

  it('a woken task has no wait reason', () => {
    const { eng, spawn } = setup({ cpus: 1 });
    let during: string | undefined;
    const t0 = spawn('T', function* (t) {
      yield* eng.sleep(t, 1000, 'nanosleep');
    });
    eng.at(500, () => (during = t0.waitingOn));
    eng.run();
    expect(during).toBe('nanosleep');
    expect(t0.wait).toBeNull();
  });
});

describe('RwSemaphore.downgradeWrite (downgrade_write)', () => {
  it('the writer keeps the lock for reading; queued readers come in at once, a queued writer waits for every reader', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    spawn('W', function* (t) {
      yield* sem.downWrite(t);
      note('W in', t);
      t.cost(1000);
      yield* sem.downgradeWrite(t);
      note('W downgraded', t);
      expect(sem.writeLocked).toBe(false);
      expect(sem.readers).toBeGreaterThanOrEqual(1);
      t.cost(5000);
      yield* sem.upRead(t);
      note('W out', t);
    });
    spawn('R', function* (t) {
      t.cost(200);
      yield* sem.downRead(t);
      note('R in', t);
      t.cost(100);
      yield* sem.upRead(t);
    });
    spawn('W2', function* (t) {
      t.cost(300);
      yield* sem.downWrite(t);
      note('W2 in', t);
      yield* sem.upWrite(t);
    });
    eng.run();
    const at = (what: string): number => log.find((l) => l[0] === what)![1];
    // The reader queued behind the writer comes in with the downgrade, long before the downgrader
    // leaves; the writer queued behind it gets the lock only after the last reader is gone.
    expect(at('R in')).toBeGreaterThan(at('W downgraded'));
    expect(at('R in')).toBeLessThan(at('W out'));
    expect(at('W2 in')).toBeGreaterThan(at('W out'));
    expect(sem.readers).toBe(0);
    expect(sem.writeLocked).toBe(false);
  });

  it('without a downgrade the queued reader waits for the whole write section', () => {
    const { eng, log, spawn, note } = setup({ cpus: 4 });
    const sem = new RwSemaphore(eng, 'sem');
    spawn('W', function* (t) {
      yield* sem.downWrite(t);
      t.cost(6000);
      yield* sem.upWrite(t);
      note('W out', t);
    });
    spawn('R', function* (t) {
      t.cost(200);
      yield* sem.downRead(t);
      note('R in', t);
      yield* sem.upRead(t);
    });
    eng.run();
    const at = (what: string): number => log.find((l) => l[0] === what)![1];
    expect(at('R in')).toBeGreaterThan(at('W out'));
  });
});
