import { describe, expect, it } from 'vitest';
import { Engine, type Code, type Task } from '../../src/engine/engine.js';
import { RwLock, SpinLock } from '../../src/engine/locks.js';
import { RwSemaphore } from '../../src/engine/rwsem.js';
import { RWSEM_2_6 } from '../../src/engine/rwsem-era.js';
import { LCB_F_READ, LCB_F_SPIN, LCB_F_WRITE, LineStats, type ContentionTracer } from '../../src/engine/lockstat.js';
import type { LockWaitee } from '../../src/engine/wait.js';
import { COSTS, flatTopo } from './helpers.js';

/** What an observer saw: each wait as [task, lock, flags, begin clock, end clock]. */
class Recorder implements ContentionTracer {
  readonly lines = new LineStats();
  readonly waits: [string, string, number, number, number][] = [];
  private readonly open = new Map<Task, { lock: LockWaitee; flags: number; at: number }>();
  begin(t: Task, lock: LockWaitee, flags: number): void {
    expect(this.open.has(t)).toBe(false); // one wait at a time
    this.open.set(t, { lock, flags, at: t.clock });
  }
  end(t: Task, lock: LockWaitee): void {
    const w = this.open.get(t)!;
    expect(w.lock).toBe(lock);
    this.open.delete(t);
    this.waits.push([t.comm, lock.name, w.flags, w.at, t.clock]);
  }
}

/** An engine of 4 CPUs (with an observer, or without), a log of [what, time], and a spawner. */
function world(rec: Recorder | null) {
  const eng = new Engine(flatTopo(4), COSTS, 1, rec !== null ? { contention: rec } : {});
  const log: [string, number][] = [];
  let tid = 100;
  const spawn = (name: string, body: (t: Task) => Code): Task => eng.spawn(tid++, 1, name, 0, body);
  const note = (what: string, t: Task): void => void log.push([what, t.clock]);
  return { eng, log, spawn, note };
}

/** Two tasks on a lock: `hold` takes it at once for 1000 ns, `wait` comes at 100 and must wait. */
function twoOnALock(rec: Recorder | null, kind: 'spin' | 'rwsem-r' | 'rwsem-w' | 'rwlock-r' | 'rwlock-w') {
  const w = world(rec);
  const spin = new SpinLock(w.eng, 'ptl');
  const sem = new RwSemaphore(w.eng, 'mmap_lock');
  sem.configure(RWSEM_2_6);
  const rw = new RwLock(w.eng, 'mm_rb_lock');
  const take = function* (t: Task, holder: boolean): Code {
    if (kind === 'spin') yield* spin.lock(t);
    else if (kind.startsWith('rwsem')) yield* holder === (kind === 'rwsem-r') ? sem.downWrite(t) : sem.downRead(t);
    else yield* holder === (kind === 'rwlock-r') ? rw.writeLock(t) : rw.readLock(t);
  };
  const drop = function* (t: Task, holder: boolean): Code {
    if (kind === 'spin') yield* spin.unlock(t);
    else if (kind.startsWith('rwsem')) yield* holder === (kind === 'rwsem-r') ? sem.upWrite(t) : sem.upRead(t);
    else yield* holder === (kind === 'rwlock-r') ? rw.writeUnlock(t) : rw.readUnlock(t);
  };
  w.spawn('hold', function* (t) {
    yield* take(t, true);
    w.note('hold in', t);
    t.cost(1000);
    yield* drop(t, true);
    w.note('hold out', t);
  });
  w.spawn('wait', function* (t) {
    t.cost(100);
    yield* take(t, false);
    w.note('wait in', t);
    t.cost(10);
    yield* drop(t, false);
  });
  w.eng.run();
  return w;
}

describe('lock waits as the engine reports them (trace_contention_begin/end)', () => {
  const cases = [
    ['spin', 'ptl', LCB_F_SPIN],
    ['rwsem-r', 'mmap_lock', LCB_F_READ],
    ['rwsem-w', 'mmap_lock', LCB_F_WRITE],
    ['rwlock-r', 'mm_rb_lock', LCB_F_SPIN | LCB_F_READ],
    ['rwlock-w', 'mm_rb_lock', LCB_F_SPIN | LCB_F_WRITE],
  ] as const;
  for (const [kind, lock, flags] of cases) {
    it(`${kind}: one wait, of the waiter only, with its flags, from after its failed atomic until it has the lock`, () => {
      const rec = new Recorder();
      const { log } = twoOnALock(rec, kind);
      const at = (what: string): number => log.find((e) => e[0] === what)![1];
      expect(rec.waits).toHaveLength(1);
      const [who, name, f, begin, end] = rec.waits[0];
      expect([who, name, f]).toEqual(['wait', lock, flags]);
      // It began after its arrival (100 ns, plus the atomic on the lock's line) and before the holder left.
      expect(begin).toBeGreaterThan(100);
      expect(begin).toBeLessThan(at('hold out'));
      // It ended when the waiter had the lock: its next step's time.
      expect(end).toBe(at('wait in'));
      expect(end).toBeGreaterThan(at('hold out') - 1);
    });
  }

  it('observing changes nothing: the same times with and without an observer', () => {
    for (const [kind] of cases) expect(twoOnALock(new Recorder(), kind).log, kind).toEqual(twoOnALock(null, kind).log);
  });

  it('an uncontended lock reports no wait', () => {
    const rec = new Recorder();
    const w = world(rec);
    const l = new SpinLock(w.eng, 'ptl');
    w.spawn('a', function* (t) {
      yield* l.lock(t);
      yield* l.unlock(t);
      yield* l.lock(t);
      yield* l.unlock(t);
    });
    w.eng.run();
    expect(rec.waits).toEqual([]);
  });
});

describe('LineStats: transfers of the lines of one name, and the waits for them', () => {
  it('sums each transfer\'s cost to its requester, the part queued behind others, and the longest', () => {
    const rec = new Recorder();
    const w = world(rec);
    const a = w.eng.line('vm_ref_count');
    const b = w.eng.line('vm_ref_count'); // a second line of the same name: summed together
    const costs: number[] = [];
    let queued = 0;
    // Three CPUs write line a at the same time: the 2nd and 3rd wait behind the ones before.
    const t0 = 1000;
    for (const cpu of [0, 1, 2]) costs.push(a.write(cpu, t0));
    costs.push(b.read(3, t0));
    // The first is a fill from memory (80), the others take the line from the writer before
    // them (50), each after the previous transfer's hand-off share of the line.
    queued = costs[1] - 50 + (costs[2] - 50);
    const s = rec.lines.all();
    expect(s).toHaveLength(1);
    expect(s[0].name).toBe('vm_ref_count');
    expect(s[0].transfers).toBe(a.transfers + b.transfers);
    expect(s[0].transfers).toBe(4);
    expect(s[0].waitNs).toBeCloseTo(costs.reduce((x, y) => x + y, 0), 9);
    expect(s[0].queuedNs).toBeCloseTo(queued, 9);
    expect(s[0].maxNs).toBe(Math.max(...costs));
  });

  it('a hit in the CPU\'s own cache is no transfer', () => {
    const stats = new LineStats();
    const eng = new Engine(flatTopo(2), COSTS, 1, { contention: { lines: stats, begin() {}, end() {} } });
    const l = eng.line('rss_stat');
    l.write(0, 0);
    l.write(0, 100);
    l.read(0, 200);
    expect(stats.all()).toEqual([{ name: 'rss_stat', transfers: 1, waitNs: 80, queuedNs: 0, maxNs: 80 }]);
  });
});
