/**
 * workloads/app-launch.spf: a multi-threaded app process forked from a zygote that has the
 * framework mapped.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { metric, pids, runShipped, totals } from './helpers.js';

const SMALL = ['threads=4', 'ui_work=2ms', 'work=1ms', 'heap=4M'];

describe('app-launch', () => {
  test('zygote, then the app: a second process with its own threads', () => {
    const r = runShipped('app-launch', SMALL, { machine: 'msm845' });
    expect(r.signals).toEqual([]);
    const [zygote, app] = pids(r);
    expect(pids(r)).toHaveLength(2);
    expect(r.threads.filter((t) => t.pid === zygote)).toHaveLength(1);
    expect(r.threads.filter((t) => t.pid === app)).toHaveLength(1 + 4);
    expect(metric(r, 'launch')).toBeCloseTo(r.elapsedNs / 1e6, 6);
  });

  test('disk-backed libraries: major faults for the cold preload, minor ones for anonymous memory', () => {
    const t = totals(runShipped('app-launch', SMALL, { machine: 'msm845' }));
    expect(t.pgmajfault).toBeGreaterThan(50);
    expect(t.minor).toBeGreaterThan(1000);
  });

  test('the app is multi-threaded: speculative designs handle some of its faults', () => {
    const t = totals(runShipped('app-launch', SMALL, { machine: 'msm845', config: ['dufour-v11'] }));
    expect(t.spf).toBeGreaterThan(0);
    expect(t.spf).toBeLessThan(t.faults);
  });

  test('cached=0 (first launch after boot): the app reads its own files from disk; cached=1: it does not', () => {
    const appMajors = (r: ReturnType<typeof runShipped>): number => {
      const app = pids(r)[1];
      return r.threads.filter((t) => t.pid === app).reduce((n, t) => n + r.counts.of(t.idx, EV.PGMAJFAULT), 0);
    };
    const warm = runShipped('app-launch', SMALL, { machine: 'msm845' });
    const cold = runShipped('app-launch', [...SMALL, 'cached=0'], { machine: 'msm845' });
    expect(cold.signals).toEqual([]);
    expect(appMajors(warm)).toBe(0);
    expect(appMajors(cold)).toBeGreaterThan(10);
  });
});
