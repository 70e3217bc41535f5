/**
 * spfperf calibrate on a tiny run: the table's shape, the JSON keys, and the clean skip without a
 * compiler. The twins are real programs: skipped where no C compiler is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { compilerOf, compilerProblem } from '../../src/calibrate/twins.js';
import { formatCalibrateJson, relError } from '../../src/format/calibrate.js';
import { spfperf } from '../helpers/cli.js';

const noCc = compilerProblem(compilerOf(process.env));
const cache = mkdtempSync(join(tmpdir(), 'spfperf-calib-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
// getrusage, so the test does not depend on perf being allowed; -r 1 and tiny sizes keep it short.
const env = { ...process.env, SPFPERF_DEBUG: undefined, SPFPERF_CACHE_DIR: cache, SPFPERF_NO_PERF: '1' };
const TINY = ['--machine', 'x86-vm16', '--cpus', '2', '-r', '1', 'page_fault1_threads', 'size=256K', 'iterations=2'];

test('without a C compiler: a clear message and a skip', async () => {
  const r = await spfperf(['calibrate', ...TINY], { env: { ...env, CC: '/nonexistent/cc' } });
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^spfperf calibrate: skipped: no C compiler/);
});

test('usage errors', async () => {
  expect((await spfperf(['calibrate', '--cpus', '2', 'nosuch'], { env })).stderr).toMatch(/no twin for 'nosuch'/);
  expect((await spfperf(['calibrate', '--cpus', '2', 'threads=4'], { env })).stderr).toMatch(/parameter 'threads' cannot be set/);
  expect((await spfperf(['calibrate', '--cpus', '2', 'iterations=0'], { env })).status).toBe(1);
  // rounds= is multi-fault's: not a parameter of the page_fault twins.
  expect((await spfperf(['calibrate', '--cpus', '2', 'page_fault1', 'rounds=3'], { env })).stderr).toMatch(/parameter 'rounds' cannot be set \(settable for the twins chosen: iterations, size;/);
  expect((await spfperf(['calibrate', '--cpus', '2', 'multi-fault', 'rounds=0'], { env })).stderr).toMatch(/rounds must be a whole number >= 1/);
  // A value the model does not take fails before anything is built.
  expect((await spfperf(['calibrate', '--cpus', '2', 'pft', 'size=lots'], { env })).status).toBe(1);
});

test('no --cpus on a preset smaller than this machine: the preset\'s CPUs, not a refusal', async () => {
  // A one-CPU machine (x86-pvm2 reshaped); this machine has os.availableParallelism() CPUs, which
  // would be refused as a --cpus above the machine's.
  const r = await spfperf(['calibrate', '--machine', 'x86-pvm2', '--cores-per-socket', '1', '-r', '1', 'page_fault1_threads', 'size=256K', 'iterations=2'], { env: { ...env, CC: '/nonexistent/cc' } });
  expect(r.stderr).toMatch(/^spfperf calibrate: skipped: no C compiler/);
  expect(r.status).toBe(0);
});

test('relError', () => {
  expect(relError(3, 2)).toBeCloseTo(0.5);
  expect(relError(0, 0)).toBe(0);
  expect(relError(1, 0)).toBeNull();
});

describe.skipIf(noCc !== null)('a tiny calibrate run (a C compiler is here)', () => {
  test('the table: one row per thread count, simulated faults equal to the loop count', async () => {
    const r = await spfperf(['calibrate', ...TINY], { env });
    // Everything it printed, for a failure's message.
    const said = `${r.stdout}\n${r.stderr}`;
    expect(r.status, said).toBe(0);
    expect(r.stderr).toMatch(/real: getrusage \(SPFPERF_NO_PERF=1\), median of 1 runs/);
    const rows = r.stdout.split('\n').filter((l) => l.includes('page_fault1_threads'));
    expect(rows, said).toHaveLength(2);
    const cells = rows.map((l) => l.split('│').map((c) => c.trim()).filter((c) => c !== ''));
    // The machine's load around the real runs: per row (Others), and in all.
    expect(r.stdout).toMatch(/│ Others │ Capacity │/);
    // What the CPUs can do together: 1.00 on one thread, a measured ratio on two.
    // (On a loaded machine the one-CPU sample can be starved: the ratio may pass 10.)
    // A loop that got no CPU at all measures nothing: '-', and a note that says why.
    if (cells[1][13] === '-') expect(r.stderr, said).toMatch(/capacity could not be measured before 1 point \(Capacity '-'\): the one-thread loop got no CPU time/);
    else expect(cells.map((c) => c[13]), said).toEqual(['1.00', expect.stringMatching(/^\d+\.\d\d$/)]);
    // The load is told from /proc/stat's ticks (10 ms): real runs this tiny that together span
    // fewer than 4 of them (a guest whose fault costs 2 us, not 12) get the note that says so.
    if (process.platform === 'linux') {
      expect(r.stderr, said).toMatch(/calibrate: (during the real runs: idle \d+ %, the programs measured \d+ %, anything else \d+ % of the CPUs' time|the machine's load during the real runs could not be told \(\/proc\/stat unreadable, or the runs spanned under 4 of its 10 ms ticks\))/);
    }
    // | workload | thr | real | (in loop) | sim | ...
    expect(cells.map((c) => c[1]), said).toEqual(['1', '2']);
    expect(cells.map((c) => c[3]), said).toEqual(['128', '256']);
    expect(cells.map((c) => c[4]), said).toEqual(['128', '256']);
  });

  test('--json: one object per workload and thread count, with the keys the issue names', async () => {
    const r = await spfperf(['calibrate', '--json', ...TINY], { env });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.workload, l.threads])).toEqual([['page_fault1_threads', 1], ['page_fault1_threads', 2]]);
    for (const l of lines) {
      for (const k of ['workload', 'threads', 'real_faults', 'sim_faults', 'real_scaling', 'sim_scaling', 'real_loop_faults', 'real_ns_per_fault', 'sim_ns_per_fault', 'other_load', 'real_capacity']) expect(l).toHaveProperty(k);
      expect(l.sim_faults).toBe(l.real_loop_faults);
    }
    expect(lines[0].real_scaling).toBe(1);
    expect(lines[0].sim_scaling).toBe(1);
  });

  test("ebizzy -mTRp: the model's set-up (its chunks) is taken off as the twin's is, and the counts agree", async () => {
    const r = await spfperf(['calibrate', '--json', '--machine', 'x86-vm16', '--cpus', '1', '-r', '1', 'ebizzy_mTRp', 'iterations=30', 'chunks=2', 'chunk_size=64K'], { env });
    expect(r.status).toBe(0);
    const [l] = r.stdout.trim().split('\n').map((x) => JSON.parse(x) as Record<string, unknown>);
    expect(l.params).toBe('iterations=30 chunks=2 chunk_size=64K');
    expect(l.iterations).toBe(30);
    // 2 chunks of 16 pages and the pointer array's page, written before the records.
    expect(l.sim_startup_faults).toBe(33);
    expect(l.sim_faults).toBe(30);
    expect(l.real_loop_faults).toBe(30);
  });
});

describe.skipIf(noCc !== null || process.platform !== 'linux' || process.arch !== 'x64')('--machine host: the host\'s costs', () => {
  const HOST_TINY = ['--cpus', '1', '-r', '1', 'page_fault1_threads', 'size=256K', 'iterations=1'];
  test('measured once (the derivations printed), cached, then taken from the cache', async () => {
    const hostEnv = { ...env, SPFPERF_CACHE_DIR: mkdtempSync(join(cache, 'host-')) };
    const first = await spfperf(['calibrate', ...HOST_TINY], { env: hostEnv });
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/^calibrate: host costs: measured now \(.*\), cached in .*host-costs\.json$/m);
    expect(first.stderr).toMatch(/^calibrate: {3}syscallNs = \d+ ns: a null syscall \(getppid\)$/m);
    expect(first.stderr).toMatch(/^calibrate: {3}while measuring: idle \d+ %/m);
    const again = await spfperf(['calibrate', ...HOST_TINY], { env: hostEnv });
    expect(again.stderr).toMatch(/^calibrate: host costs: as measured .* \(cached in .*; --remeasure measures again\)$/m);
  });

  test('--remeasure for another machine says it does nothing', async () => {
    const r = await spfperf(['calibrate', '--remeasure', ...TINY], { env });
    expect(r.stderr).toMatch(/--remeasure: the host's costs are only measured for --machine host/);
  });
});

test('the JSON formatter writes null, not NaN, for a cost it cannot compute', () => {
  const row = { workload: 'w', threads: 1, params: 'iterations=1 size=4096', iterations: 1, runs: 1, source: 'getrusage' as const, startupFaults: 0, realFaults: 0, realLoopFaults: 0, simStartupFaults: 0, simFaults: 0, realThroughput: 0, realSpread: 0, simThroughput: 0, realScaling: 1, simScaling: 1, realNsPerFault: NaN, simNsPerFault: NaN, otherLoad: null, capacity: 1 };
  const o = JSON.parse(formatCalibrateJson([row])) as Record<string, unknown>;
  expect(o.real_ns_per_fault).toBeNull();
  expect(o.cost_error).toBeNull();
  expect(o.other_load).toBeNull();
  expect((JSON.parse(formatCalibrateJson([{ ...row, otherLoad: 0.12345 }])) as Record<string, unknown>).other_load).toBe(0.123);
});
