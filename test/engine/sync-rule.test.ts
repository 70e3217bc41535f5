/**
 * The sync rule, enforced (src/engine/engine.ts): a task touches shared cache lines only in a
 * step that began in time order. The suite's setup turns the check on for every engine; these
 * tests drop one sync point through the engine's test hook and see the check fire, on a bare
 * engine and on a whole workload run through the mm model.
 */
import { describe, expect, test } from 'vitest';
import { Engine, SYNC, SyncRuleError, type Code, type Task } from '../../src/engine/engine.js';
import { Topology } from '../../src/engine/topology.js';
import { runWorkload } from '../../src/sim/run.js';
import { mmOptions } from '../mm/helpers.js';

const COSTS = { contextSwitchNs: 1000, wakeupNs: 2000, timesliceNs: 3_000_000, jitter: 0 };
const LAT = { local: 1, smt: 10, socket: 40, remote: 120, memory: 90 };

function engine(): Engine {
  return new Engine(new Topology({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1 }, LAT), COSTS, 1);
}

/** Two tasks that each work, then sync, then write one shared line, `rounds` times. */
function twoWriters(eng: Engine, rounds: number): void {
  const line = eng.line('counter');
  const body = (work: number) =>
    function* (t: Task): Code {
      for (let i = 0; i < rounds; i++) {
        t.cost(work);
        yield SYNC;
        t.stall(line.write(t.cpu, t.clock));
      }
    };
  eng.spawn(1, 1, 'a', 0, body(100));
  eng.spawn(2, 1, 'b', 0, body(130));
}

describe('the sync rule check', () => {
  test('is on for every engine the suite builds', () => {
    expect(engine().checkSync).toBe(true);
    expect(new Engine(new Topology({ sockets: 1, coresPerSocket: 1, threadsPerCore: 1 }, LAT), COSTS, 1, { checkSync: false }).checkSync).toBe(false);
  });

  test('a run that keeps the rule passes', () => {
    const eng = engine();
    twoWriters(eng, 50);
    expect(() => eng.run()).not.toThrow();
  });

  test('dropping one sync point makes the next shared access throw, naming the line and the caller', () => {
    const eng = engine();
    twoWriters(eng, 50);
    let dropped = 0;
    eng.dropSync = () => dropped++ === 0;
    let err: unknown;
    try {
      eng.run();
    } catch (e) {
      err = e;
    }
    expect(dropped).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(SyncRuleError);
    const e = err as SyncRuleError;
    expect(e.line).toBe('counter');
    expect(e.time).toBeGreaterThan(e.horizon);
    expect(e.message).toMatch(/cache line 'counter'.*without a yield SYNC/);
    // The call site is the task body in this file, not the engine.
    expect(e.site).toMatch(/sync-rule\.test\.ts/);
  });

  test('a step may run past the horizon by its own transfers, but not by CPU work', () => {
    const eng = engine();
    const a = eng.line('a');
    const b = eng.line('b');
    const seen: string[] = [];
    eng.spawn(1, 1, 'walker', 0, function* (t): Code {
      yield SYNC;
      t.stall(a.write(t.cpu, t.clock)); // a miss: the clock runs past the other task's time
      t.stall(b.write(t.cpu, t.clock)); // same step: allowed
      seen.push('step');
      t.cost(500);
      t.stall(b.read(t.cpu, t.clock)); // CPU work since the sync, beyond the horizon: broken
      seen.push('unreachable');
    });
    eng.spawn(2, 1, 'other', 10, function* (t): Code {
      t.cost(1_000_000);
      yield SYNC;
    });
    expect(() => eng.run()).toThrow(SyncRuleError);
    expect(seen).toEqual(['step']);
  });
});

describe('the check on a workload run through the mm model', () => {
  const SRC = 'process {\n  threads 4 pin {\n    loop 8 {\n      c = mmap 512K rw private anon\n      touch c write seq\n      munmap c\n    }\n  }\n}\n';

  for (const design of ['base', 'dufour-v11', 'per-vma-lock']) {
    test(`${design}: the run keeps the rule; dropping one sync breaks it`, () => {
      expect(() => runWorkload(mmOptions(SRC, { ncpus: 4, design, keep: false }))).not.toThrow();

      const o = mmOptions(SRC, { ncpus: 4, design, keep: false });
      let drops = 0;
      const spf = o.spf;
      let err: unknown;
      try {
        runWorkload({
          ...o,
          spf: (eng) => {
            // From the 50th sync owed in the run on, take out the sync points of the thread that
            // owed it: its next kernel step that touches a shared line does so out of time order.
            let owed = 0;
            let victim = -1;
            eng.dropSync = (t) => {
              if (++owed === 50) victim = t.tid;
              if (t.tid !== victim) return false;
              drops++;
              return true;
            };
            return spf(eng);
          },
        });
      } catch (e) {
        err = e;
      }
      expect(drops).toBeGreaterThanOrEqual(1);
      expect(err).toBeInstanceOf(SyncRuleError);
      // The site is the model's kernel function that made the access.
      expect((err as SyncRuleError).site).toMatch(/src[\\/](mm|engine)[\\/]/);
      expect((err as SyncRuleError).site).not.toMatch(/cacheline|engine\.ts/);
    });
  }
});
