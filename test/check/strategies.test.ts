import { describe, expect, test } from 'vitest';
import { SYNC, type Code, type Task } from '../../src/engine/engine.js';
import { policyFor, stepFunction, STARVE_NS } from '../../src/check/strategies.js';
import type { ScheduleId } from '../../src/check/schedule-id.js';
import { setup } from '../engine/helpers.js';

/**
 * Three tasks of four steps each on four CPUs, all starting at 0 (in the engine's plain order
 * they interleave by time): the order in which their steps run under a schedule.
 */
function order(id: ScheduleId, length = 12): string {
  const { eng, spawn } = setup({ cpus: 4 });
  const policy = policyFor(id, length, false);
  eng.policy = policy.attach(eng);
  const out: string[] = [];
  const body = (name: string, step: number) =>
    function* (t: Task): Code {
      for (let i = 0; i < 4; i++) {
        t.cost(step);
        if (t.mustSync()) yield SYNC;
        out.push(name);
      }
    };
  spawn('A', body('A', 70));
  spawn('B', body('B', 100));
  spawn('C', body('C', 45));
  eng.run();
  return out.join('');
}

const pct = (index: number, depth = 1, keep: number[] | null = null): ScheduleId => ({ strategy: 'pct', depth, seed: 1, index, keep });
const rnd = (index: number, keep: number[] | null = null): ScheduleId => ({ strategy: 'random', depth: 0, seed: 1, index, keep });

describe('schedules', () => {
  test('the same id gives the same order; other indexes give others', () => {
    for (const id of [pct(3, 3), rnd(3)]) expect(order(id)).toBe(order(id));
    expect(new Set(Array.from({ length: 30 }, (_, i) => order(rnd(i)))).size).toBeGreaterThan(10);
    expect(new Set(Array.from({ length: 30 }, (_, i) => order(pct(i, 3)))).size).toBeGreaterThan(3);
  });

  test('pct depth 1: the highest-priority task runs all its steps before the next one starts', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const o = order(pct(i));
      expect(o).toMatch(/^(A{4}|B{4}|C{4}){3}$/);
      seen.add(o);
    }
    // Every task is first in some schedule: the priorities are drawn, not fixed.
    expect(new Set([...seen].map((o) => o[0]))).toEqual(new Set(['A', 'B', 'C']));
  });

  test('pct depth 2: one priority change point splits one task\'s run in two at most', () => {
    let split = 0;
    for (let i = 0; i < 40; i++) {
      const o = order(pct(i, 2));
      const runs = o.match(/(.)\1*/g)!;
      expect(runs.length).toBeLessThanOrEqual(4);
      if (runs.length === 4) split++;
      // Without its change point the schedule is depth 1's ordering of the same priorities.
      expect(order(pct(i, 2, []))).toMatch(/^(A{4}|B{4}|C{4}){3}$/);
    }
    expect(split).toBeGreaterThan(0);
  });

  test('random: each task steps first in some schedules, and keeping no deviation is the plain order', () => {
    const firsts = new Set(Array.from({ length: 40 }, (_, i) => order(rnd(i))[0]));
    expect(firsts).toEqual(new Set(['A', 'B', 'C']));
    // Virtual-time order: C at 45, 90, 135, 180; A at 70, 140, 210, 280; B at 100, 200, 300, 400.
    expect(order(rnd(5, []))).toBe('CACBCACBAABB');
    expect(order(rnd(9, []))).toBe('CACBCACBAABB');
  });

  test('a task kept waiting longer than STARVE_NS steps anyway (livelock guard)', () => {
    const { eng, spawn } = setup({ cpus: 2 });
    eng.policy = policyFor(pct(0), 10, false).attach(eng);
    const steps: string[] = [];
    // Two tasks that never block: under depth 1 one of them waits for the other's whole run,
    // which lasts 30 ms of virtual time: past STARVE_NS it gets steps in anyway.
    const body = (name: string) =>
      function* (t: Task): Code {
        for (let i = 0; i < 300; i++) {
          t.cost(100_000);
          if (t.mustSync()) yield SYNC;
          steps.push(name);
        }
      };
    spawn('A', body('A'));
    spawn('B', body('B'));
    eng.run();
    const first = steps[0];
    const firstOther = steps.findIndex((s) => s !== first);
    expect(firstOther).toBeGreaterThan(0);
    expect(firstOther * 100_000).toBeLessThanOrEqual(STARVE_NS + 100_000);
  });
});

describe('stepFunction', () => {
  test('the innermost model frame, in the kernel\'s snake_case', () => {
    const stack = [
      'Error',
      '    at Engine.onSyncPoint (file:///x/src/check/strategies.ts:80:20)',
      '    at Task.mustSync (file:///x/src/engine/task.ts:96:5)',
      '    at WaitQueue.waitEvent (file:///x/src/engine/waitqueue.ts:20:13)',
      '    at waitEvent.next (<anonymous>)',
      '    at KamezawaStrategy.vmaDetached (file:///x/src/mm/spf/kamezawa.ts:85:5)',
      '    at doAnonymousPage (file:///x/dist/mm/do_fault.js:10:1)',
    ].join('\n');
    expect(stepFunction(stack)).toBe('vma_detached');
    expect(stepFunction('Error\n    at doUserAddrFault (file:///x/dist/mm/access.js:1:1)')).toBe('do_user_addr_fault');
    expect(stepFunction('Error\n    at Task.mustSync (file:///x/src/engine/task.ts:1:1)')).toBe('');
  });

  test('a checkout under a directory named check or engine is still the model', () => {
    expect(stepFunction('Error\n    at KamezawaStrategy.vmaPut (file:///check/work/main/src/mm/spf/kamezawa.ts:85:5)')).toBe('vma_put');
    expect(stepFunction('Error\n    at doAnonymousPage (/engine/spfperf/dist/mm/do_fault.js:10:1)')).toBe('do_anonymous_page');
    expect(stepFunction('Error\n    at Task.mustSync (file:///check/work/main/dist/engine/task.js:1:1)')).toBe('');
  });
});
