import { describe, expect, test } from 'vitest';
import { LoadGate, mapPool, settlePool, StopFlag } from '../../src/pool/pool.js';
import { resultOf, runSpecOf, type RunSpec } from '../../src/pool/run-job.js';
import { SimulationError, UsageError, WorkloadSyntaxError } from '../../src/errors.js';
import { EV } from '../../src/events/catalog.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { runWorkload } from '../../src/sim/run.js';

const small = (seed: number, workload = 'page_fault1', params = ['threads=2', 'iterations=1', 'size=256K']): RunSpec => runSpecOf(workload, params, { cpus: '2', seed: String(seed) });
const SPECS = [1, 2, 3, 4].map((s) => small(s));
/** A run of more than one slice of runWorkloadAsync() (20000 events): it reports progress, and can be stopped. */
const LONGER = ['threads=2', 'iterations=2', 'size=16M'];

describe('the worker pool', () => {
  test('results come back in the jobs\' order, equal to runs in this thread (--jobs 1) and to plain runWorkload()', async () => {
    const serial = await mapPool('run', SPECS, { jobs: 1 });
    const pooled = await mapPool('run', SPECS, { jobs: 2 });
    expect(serial.error).toBeUndefined();
    expect(pooled.error).toBeUndefined();
    expect(pooled.results).toEqual(serial.results);
    // The order is the jobs' order: each result is its own seed's run.
    const direct = SPECS.map((s) => runWorkload(runOptionsOf(prepareRun(s.workload, s.params, s.options))));
    expect(pooled.results.map((w) => resultOf(w).elapsedNs)).toEqual(direct.map((r) => r.elapsedNs));
    const faults = pooled.results.map((w) => resultOf(w).counts.total(EV.PAGE_FAULTS));
    expect(faults).toEqual(direct.map((r) => r.counts.total(EV.PAGE_FAULTS)));
    // Different seeds give different runs, so the comparison above says something about order.
    expect(new Set(direct.map((r) => r.elapsedNs)).size).toBeGreaterThan(1);
  });

  test('more jobs than inputs: every input runs once', async () => {
    const two = SPECS.slice(0, 2);
    const r = await mapPool('run', two, { jobs: 8 });
    expect(r.results).toEqual((await mapPool('run', two, { jobs: 1 })).results);
  });

  test('a failing job: the results before it and its error, of its class and message, as in this thread', async () => {
    const specs = [small(1), small(2, 'fixtures/workloads/runtime-error.spf', []), small(3), small(4, 'no-such-workload', [])];
    for (const jobs of [1, 2]) {
      const r = await mapPool('run', specs, { jobs });
      expect(r.results).toHaveLength(1);
      expect(r.error).toBeInstanceOf(SimulationError);
      expect(r.error!.message).toMatch(/^fixtures\/workloads\/runtime-error\.spf:6:3: mprotect failed: ENOMEM\n {2}mprotect a r\n {2}\^$/);
    }
    // The first failure in job order is reported, whichever finishes first.
    const bad = await mapPool('run', [small(1), small(2, 'no-such-workload', []), small(3, 'fixtures/workloads/bad-syntax.spf', [])], { jobs: 3 });
    expect(bad.error).toBeInstanceOf(UsageError);
    expect(bad.error!.message).toMatch(/^workload 'no-such-workload' not found/);
  });

  test('a workload syntax error keeps its file, line, column and source line', async () => {
    const [inThread, onWorker] = await Promise.all([1, 2].map((jobs) => mapPool('run', [small(1, 'fixtures/workloads/bad-syntax.spf', []), small(2)], { jobs })));
    expect(onWorker.error).toBeInstanceOf(WorkloadSyntaxError);
    expect((onWorker.error as WorkloadSyntaxError).render()).toBe((inThread.error as WorkloadSyntaxError).render());
  });

  test('settlePool runs every job and gives each one\'s outcome', async () => {
    const specs = [small(1), small(2, 'no-such-workload', []), small(3)];
    const serial = await settlePool('run', specs, { jobs: 1 });
    const pooled = await settlePool('run', specs, { jobs: 2 });
    expect(pooled.map((s) => s?.ok)).toEqual([true, false, true]);
    expect(pooled).toEqual(serial);
    const failed = pooled[1];
    expect(failed !== undefined && !failed.ok && failed.error.message).toMatch(/^workload 'no-such-workload' not found/);
  });

  test('stopped: only the first job starts, and it ends at once with a partial result', async () => {
    for (const jobs of [1, 2]) {
      const stop = new StopFlag();
      stop.set();
      const r = await mapPool('run', [small(1, 'page_fault1', LONGER), small(2)], { jobs, stop });
      expect(r.error).toBeUndefined();
      expect(r.results).toHaveLength(1);
      expect(r.results[0].stopped).toBe(true);
    }
  });

  test('progress reports reach the caller, with the job\'s index', async () => {
    const specs = [small(1, 'page_fault1', LONGER), small(2, 'page_fault1', LONGER)];
    for (const jobs of [1, 2]) {
      const seen = new Set<number>();
      await mapPool('run', specs, { jobs, onProgress: (i) => seen.add(i) });
      expect([...seen].sort()).toEqual([0, 1]);
    }
  });

  test('the load gate opens once every worker it waits for is up or dead, and at once for none', async () => {
    let opened = false;
    const none = new LoadGate();
    await none.wait();
    const gate = new LoadGate();
    gate.add();
    gate.add();
    const waiting = gate.wait().then(() => (opened = true));
    gate.done(); // one up
    await Promise.resolve();
    await Promise.resolve();
    expect(opened).toBe(false);
    gate.done(); // the other dead
    await waiting;
    expect(opened).toBe(true);
    gate.done(); // a late report: nothing to open
    await gate.wait();
  });

  test('jobs must be a whole number >= 1', async () => {
    await expect(mapPool('run', SPECS, { jobs: 0 })).rejects.toThrow(/jobs must be a whole number >= 1/);
  });
});
