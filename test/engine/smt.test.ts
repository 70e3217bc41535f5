/**
 * SMT core sharing (src/engine/engine.ts): Task.cost() is slowed down by the SMT siblings busy on
 * the same core (Engine.coreBusy, Engine.smtSlowdown), Task.stall() never is; the engine keeps
 * coreBusy up to date as tasks get, leave and give back CPUs.
 */
import { describe, expect, it } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { SYNC, TaskState, type Code, type Engine, type Task } from '../../src/engine/engine.js';
import { SpinLock } from '../../src/engine/locks.js';
import { setup, topo } from './helpers.js';
import { mmOptions } from '../mm/helpers.js';
import { RecordingSink, mainThread } from '../sim/helpers.js';
import { runWorkload } from '../../src/sim/run.js';

/** 1 socket x 2 cores x 2 threads, consecutive numbering: CPUs 0,1 are core 0; 2,3 core 1. */
const SMT2 = { sockets: 1, coresPerSocket: 2, threadsPerCore: 2 } as const;
const X86_SMT = [1, 1.2] as const;

/** The ns a cost(ns) on `cpu` advances the clock by while `others` tasks hold the given CPUs. */
function costOn(cpu: number, others: readonly number[], opts: { smtThroughput?: readonly number[]; siblingsLast?: boolean; stall?: boolean } = {}): number {
  const { eng, spawn } = setup({ topo: topo({ ...SMT2, siblingsLast: opts.siblingsLast }), costs: { smtThroughput: opts.smtThroughput } });
  let took = NaN;
  spawn(
    'A',
    function* (t) {
      const before = t.clock;
      if (opts.stall === true) t.stall(1000);
      else t.cost(1000);
      took = t.clock - before;
    },
    { cpu },
  );
  for (const c of others) {
    spawn(
      'B',
      function* (t) {
        t.stall(50_000);
      },
      { cpu: c },
    );
  }
  eng.run();
  return took;
}

/** Every core's coreBusy equals the number of its CPUs holding a task that is not spinning. */
function expectCoreBusyConsistent(eng: Engine): void {
  const want = new Int32Array(eng.ncpus);
  for (let c = 0; c < eng.ncpus; c++) if (eng.cpus[c] !== null && eng.cpus[c]!.state !== TaskState.Spinning) want[eng.topo.coreOf[c]]++;
  expect(Array.from(eng.coreBusy)).toEqual(Array.from(want));
}

describe('SMT: a spinning sibling relaxes (PAUSE, HMT_low) and leaves the core to the other thread', () => {
  it('while B spins on a lock on CPU 1, A on CPU 0 works at full speed; once B holds it, at shared speed', () => {
    const { eng, spawn } = setup({ topo: topo(SMT2), costs: { smtThroughput: X86_SMT } });
    const lock = new SpinLock(eng, 'l');
    const took: number[] = [];
    spawn(
      'H',
      function* (t) {
        yield* lock.lock(t); // on core 1: takes the lock first
        t.stall(5000);
        yield* lock.unlock(t);
      },
      { cpu: 2 },
    );
    const b = spawn(
      'B',
      function* (t) {
        t.stall(100);
        yield* lock.lock(t); // spins until ~5000, then runs 20000 ns holding it
        t.stall(20_000);
        yield* lock.unlock(t);
      },
      { cpu: 1 },
    );
    let spinning: unknown[] = [];
    eng.at(1000, () => {
      spinning = [b.state, eng.coreBusy[0]];
      expectCoreBusyConsistent(eng);
    });
    spawn(
      'A',
      function* (t) {
        t.stall(1000);
        yield SYNC; // at 1000: B spins
        let before = t.clock;
        t.cost(1000);
        took.push(t.clock - before);
        t.stall(10_000);
        yield SYNC; // at ~12000: B runs, holding the lock
        before = t.clock;
        t.cost(1000);
        took.push(t.clock - before);
      },
      { cpu: 0 },
    );
    eng.run();
    expect(spinning).toEqual([TaskState.Spinning, 1]);
    expect(took[0]).toBe(1000);
    expect(took[1]).toBeCloseTo((1000 * 2) / 1.2, 9);
    expectCoreBusyConsistent(eng);
    expect(Array.from(eng.coreBusy)).toEqual([0, 0, 0, 0]);
  });
});

describe('SMT: cost() shares the core with busy siblings', () => {
  it('alone on its core, cost(1000) takes 1000 ns', () => {
    expect(costOn(0, [], { smtThroughput: X86_SMT })).toBe(1000);
  });

  it('with a task on its SMT sibling, cost(1000) takes 1000 * 2 / 1.2 ns', () => {
    expect(costOn(0, [1], { smtThroughput: X86_SMT })).toBeCloseTo((1000 * 2) / 1.2, 9);
    expect(costOn(3, [2], { smtThroughput: X86_SMT })).toBeCloseTo((1000 * 2) / 1.2, 9);
  });

  it('a task on the other core (not a sibling) does not slow it down', () => {
    expect(costOn(0, [2], { smtThroughput: X86_SMT })).toBe(1000);
    expect(costOn(0, [2, 3], { smtThroughput: X86_SMT })).toBe(1000);
    expect(costOn(1, [3], { smtThroughput: X86_SMT })).toBe(1000);
  });

  it('stall() is never scaled, sibling busy or not', () => {
    expect(costOn(0, [1], { smtThroughput: X86_SMT, stall: true })).toBe(1000);
    expect(costOn(0, [1, 2, 3], { smtThroughput: X86_SMT, stall: true })).toBe(1000);
    expect(costOn(0, [], { smtThroughput: X86_SMT, stall: true })).toBe(1000);
  });

  it('without smtThroughput nothing changes', () => {
    expect(costOn(0, [1])).toBe(1000);
    const { eng } = setup({ topo: topo(SMT2) });
    expect(eng.smt).toBe(false);
    expect(Array.from(eng.smtSlowdown)).toEqual([1, 1, 1]);
  });

  it('with smtThroughput [1] (cores without SMT) nothing changes', () => {
    expect(costOn(0, [1], { smtThroughput: [1] })).toBe(1000);
    const { eng } = setup({ topo: topo(SMT2), costs: { smtThroughput: [1] } });
    expect(eng.smt).toBe(false);
  });

  it('a core whose throughput doubles with its second thread ([1, 2]) slows neither thread', () => {
    expect(costOn(0, [1], { smtThroughput: [1, 2] })).toBe(1000);
    const { eng } = setup({ topo: topo(SMT2), costs: { smtThroughput: [1, 2] } });
    expect(eng.smt).toBe(false);
    expect(Array.from(eng.smtSlowdown)).toEqual([1, 1, 1]);
  });

  it('single-threaded cores ignore an SMT throughput table', () => {
    const { eng } = setup({ cpus: 4, costs: { smtThroughput: X86_SMT } });
    expect(eng.smt).toBe(false);
    const { eng: e2, spawn } = setup({ cpus: 2, costs: { smtThroughput: X86_SMT } });
    let took = NaN;
    spawn('A', function* (t) {
      t.cost(1000);
      took = t.clock;
    }, { cpu: 0 });
    spawn('B', function* (t) {
      t.stall(50_000);
    }, { cpu: 1 });
    e2.run();
    expect(took).toBe(1000);
  });

  it('siblings follow the topology: with siblingsLast, CPU 0 shares its core with CPU 2, not CPU 1', () => {
    expect(costOn(0, [2], { smtThroughput: X86_SMT, siblingsLast: true })).toBeCloseTo((1000 * 2) / 1.2, 9);
    expect(costOn(0, [1], { smtThroughput: X86_SMT, siblingsLast: true })).toBe(1000);
    expect(costOn(1, [3], { smtThroughput: X86_SMT, siblingsLast: true })).toBeCloseTo((1000 * 2) / 1.2, 9);
  });

  it('the slowdown with k busy threads is k / throughput(k) (POWER SMT8 profile)', () => {
    const tp = getArch('powerpc-radix').costs.smtThroughput;
    expect(tp).toHaveLength(8);
    const spec = { sockets: 1, coresPerSocket: 1, threadsPerCore: 8 };
    const { eng } = setup({ topo: topo(spec), costs: { smtThroughput: tp } });
    expect(eng.smt).toBe(true);
    for (let k = 1; k <= 8; k++) expect(eng.smtSlowdown[k]).toBeCloseTo(k / tp[k - 1]!, 12);
    expect(eng.smtSlowdown[8]).toBeCloseTo(4, 12); // 8 threads share 2x one thread's throughput
    for (const k of [1, 2, 4, 8]) {
      const { eng: e, spawn } = setup({ topo: topo(spec), costs: { smtThroughput: tp } });
      let took = NaN;
      spawn('A', function* (t) {
        t.cost(1000);
        took = t.clock;
      }, { cpu: 0 });
      for (let c = 1; c < k; c++) spawn('B', function* (t) {
        t.stall(50_000);
      }, { cpu: c });
      e.run();
      expect(took, `${k} busy threads`).toBeCloseTo((1000 * k) / tp[k - 1]!, 9);
    }
  });
});

describe('SMT: coreBusy follows tasks onto and off CPUs', () => {
  it('a sibling that blocks stops slowing the core; once woken and running it slows it again', () => {
    const { eng, spawn } = setup({ topo: topo(SMT2), costs: { smtThroughput: X86_SMT } });
    const took: number[] = [];
    const busy: number[] = [];
    spawn(
      'A',
      function* (t) {
        t.stall(1);
        yield SYNC; // let B go to sleep first
        busy.push(eng.coreBusy[0]);
        let before = t.clock;
        t.cost(1000);
        took.push(t.clock - before);
        yield* eng.sleep(t, 20_000, 'pause'); // wakes at ~23 us, B runs then
        busy.push(eng.coreBusy[0]);
        before = t.clock;
        t.cost(1000);
        took.push(t.clock - before);
      },
      { cpu: 0 },
    );
    spawn(
      'B',
      function* (t) {
        yield* eng.sleep(t, 10_000, 'pause');
        t.stall(100_000);
      },
      { cpu: 1 },
    );
    eng.run();
    expect(busy).toEqual([1, 2]);
    expect(took[0]).toBe(1000);
    expect(took[1]).toBeCloseTo((1000 * 2) / 1.2, 9);
    expect(Array.from(eng.coreBusy)).toEqual([0, 0, 0, 0]);
  });

  it('returns to 0 on every core after tasks exit, block, queue and migrate', () => {
    const { eng, spawn } = setup({ topo: topo(SMT2), costs: { smtThroughput: X86_SMT } });
    const body = (n: number) =>
      function* (t: Task): Code {
        for (let i = 0; i < n; i++) {
          t.cost(300 + 17 * i);
          yield SYNC;
          expectCoreBusyConsistent(eng);
          if (i % 3 === 1) yield* eng.sleep(t, 2000, 'pause');
          expectCoreBusyConsistent(eng);
        }
      };
    // More tasks than CPUs: some wait on the run queue and take a CPU when another leaves it.
    for (let i = 0; i < 7; i++) spawn(`T${i}`, body(4 + i), { at: 100 * i });
    spawn('P', body(5), { cpu: 3 });
    eng.run();
    expect(eng.stuckTasks()).toEqual([]);
    expect(Array.from(eng.coreBusy)).toEqual([0, 0, 0, 0]);
    expect(eng.cpus.every((c) => c === null)).toBe(true);
  });
});

describe('SMT: the arch profile reaches the engine of a run', () => {
  it('x86 on an SMT machine (e5-2690v3): 2 busy threads run at 1.2 / 2 each', () => {
    const sink = new RecordingSink();
    runWorkload(mmOptions('process {\n  a = mmap 64K\n  touch a write\n}\n', { machine: 'e5-2690v3', ncpus: 48, sinks: [sink] }));
    const eng = mainThread(sink).k.eng;
    expect(eng.smt).toBe(true);
    expect(eng.smtSlowdown[2]).toBeCloseTo(2 / 1.2, 12);
  });

  it('x86 on a machine without SMT (x86-2s8c): no slowdown', () => {
    const sink = new RecordingSink();
    runWorkload(mmOptions('process {\n  a = mmap 64K\n  touch a write\n}\n', { machine: 'x86-2s8c', ncpus: 8, sinks: [sink] }));
    expect(mainThread(sink).k.eng.smt).toBe(false);
  });

  it('POWER8 (p8-80, SMT8): the profile table', () => {
    const sink = new RecordingSink();
    runWorkload(mmOptions('process {\n  a = mmap 1M\n  touch a write\n}\n', { machine: 'p8-80', ncpus: 80, sinks: [sink] }));
    const eng = mainThread(sink).k.eng;
    expect(eng.smt).toBe(true);
    expect(eng.smtSlowdown[8]).toBeCloseTo(4, 12);
  });
});
