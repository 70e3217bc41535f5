/**
 * The real twins: built with the system C compiler (skipped cleanly without one), a tiny run's
 * report line, and the exact fault count of its rounds, equal to the model's for the same
 * parameters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildTwins, compilerOf, compilerProblem, parseTwinLine, runTwin, tmpfsDir, TWINS, type Twin } from '../../src/calibrate/twins.js';
import { EV } from '../../src/events/catalog.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { runWorkload } from '../../src/sim/run.js';
import { mergeParamArgs } from '../../src/workload/params.js';

const noCc = compilerProblem(compilerOf(process.env));
const cache = mkdtempSync(join(tmpdir(), 'spfperf-twins-'));
const env = { ...process.env, SPFPERF_CACHE_DIR: cache };
afterAll(() => rmSync(cache, { recursive: true, force: true }));

test('the twins calibrate runs by default: page_fault1..3 in both modes, ebizzy in three, multi-fault, pft', () => {
  expect(TWINS.map((t) => t.name)).toEqual([
    'page_fault1_threads', 'page_fault1_processes', 'page_fault2_threads', 'page_fault2_processes', 'page_fault3_threads', 'page_fault3_processes',
    'ebizzy_mTt', 'ebizzy_mTRp', 'ebizzy_mRTt', 'multi-fault', 'pft',
  ]);
  for (const t of TWINS.filter((t) => t.workload.startsWith('page_fault'))) expect(t.fixed).toContain(`mode=${t.name.endsWith('_threads') ? 'threads' : 'processes'}`);
  // ebizzy's flags as the workload maps them: -m mmap, -T touch, -R random_size, -p permissions.
  const flags = (n: string): readonly string[] => TWINS.find((t) => t.name === n)!.fixed;
  expect(flags('ebizzy_mTt')).toEqual(['mmap=1', 'touch=1', 'random_size=0', 'permissions=0']);
  expect(flags('ebizzy_mTRp')).toEqual(['mmap=1', 'touch=1', 'random_size=1', 'permissions=1']);
  expect(flags('ebizzy_mRTt')).toEqual(['mmap=1', 'touch=1', 'random_size=1', 'permissions=0']);
});

test("the model takes every twin's parameters, and its empty run does no work", () => {
  const opts = { machine: 'x86-vm16', cpus: '2' };
  for (const t of TWINS) {
    expect(Object.keys(t.defaults)).toContain(t.work);
    const common = ['threads=1', ...t.fixed, ...Object.entries(t.defaults).map(([k, v]) => `${k}=${v}`)];
    prepareRun(t.workload, common, opts);
    const none = runWorkload(runOptionsOf(prepareRun(t.workload, mergeParamArgs(common, [`${t.work}=0`, ...t.emptyModel]), opts)));
    expect(none.counters.get(t.ops) ?? 0).toBe(0);
  }
});

test('a compiler that is not there is a sentence, not a crash', () => {
  expect(compilerProblem('/nonexistent/spfperf-cc')).toMatch(/no C compiler: '\/nonexistent\/spfperf-cc' cannot be run/);
});

test('the report line is read as key=value fields', () => {
  const f = parseTwinLine('noise\ntwin=page_fault1 mode=threads ops=8 loop_faults=8 elapsed_ns=5\n');
  expect(f.get('ops')).toBe('8');
  expect(f.get('mode')).toBe('threads');
  expect(() => parseTwinLine('nothing here')).toThrow(/no report line/);
});

/** Tiny parameters of each twin: a run of well under a second on both sides. */
const TINY: Readonly<Record<string, readonly string[]>> = {
  page_fault: ['iterations=2', 'size=256K'],
  ebizzy_mTt: ['iterations=3', 'chunks=3', 'chunk_size=64K'],
  ebizzy_mTRp: ['iterations=40', 'chunks=3', 'chunk_size=64K'],
  ebizzy_mRTt: ['iterations=40', 'chunks=3', 'chunk_size=64K'],
  'multi-fault': ['rounds=3', 'span=256K', 'area=64K'],
  pft: ['iterations=2', 'size=512K'],
};
const tinyOf = (t: Twin): readonly string[] => TINY[t.workload.startsWith('page_fault') ? 'page_fault' : t.name];

describe.skipIf(noCc !== null)('built twins (a C compiler is here)', () => {
  test('every twin builds into the cache dir, once', () => {
    const dir = buildTwins([...new Set(TWINS.map((t) => t.source))], env);
    expect(dir.startsWith(cache)).toBe(true);
    expect(buildTwins(['page_fault1'], env)).toBe(dir);
  });

  // getrusage here (no perf): the fallback must stand on its own.
  test.each([
    ['page_fault1', 'threads'],
    ['page_fault2', 'processes'],
    ['page_fault3', 'threads'],
  ])('%s mode=%s: a tiny run faults once per page in its rounds, exactly', (src, mode) => {
    const dir = buildTwins([src], env);
    const shm = tmpfsDir() ?? tmpdir();
    const args = ['threads=2', `mode=${mode}`, 'size=256K', ...(src === 'page_fault1' ? [] : [`dir=${shm}`])];
    const r = runTwin(join(dir, src), [...args, 'iterations=3'], false);
    expect(r.source).toBe('getrusage');
    expect(r.ops).toBe(2 * 3 * 64);
    expect(r.loopFaults).toBe(2 * 3 * 64);
    const empty = runTwin(join(dir, src), [...args, 'iterations=0'], false);
    expect(empty.ops).toBe(0);
    expect(empty.loopFaults).toBe(0);
    // The whole run counts its start-up too: at least the rounds' faults more than the empty run's
    // lower bound (start-up varies by a few faults from run to run).
    expect(r.faults).toBeGreaterThan(2 * 3 * 64);
    expect(r.elapsedNs).toBeGreaterThan(0);
  });

  // The twin's own count of its rounds' faults (no start-up in it) against the model's faults
  // with its empty run's taken off, for the same parameters: they must be equal.
  test.each(TWINS.filter((t) => !t.workload.startsWith('page_fault') || t.name === 'page_fault2_threads').map((t) => [t.name, t] as const))(
    '%s: a tiny fixed-work run faults as the model does, exactly',
    (_name, twin) => {
      const dir = buildTwins([twin.source], env);
      const common = ['threads=2', ...twin.fixed, ...tinyOf(twin)];
      const args = [...common, ...(twin.files ? [`dir=${tmpfsDir() ?? tmpdir()}`] : [])];
      const real = runTwin(join(dir, twin.source), args, false);
      const empty = runTwin(join(dir, twin.source), [...args, `${twin.work}=0`], false);
      expect(empty.ops).toBe(0);
      expect(empty.loopFaults).toBe(0);

      const opts = { machine: 'x86-vm16', cpus: '2' };
      const sim = runWorkload(runOptionsOf(prepareRun(twin.workload, common, opts)));
      const none = runWorkload(runOptionsOf(prepareRun(twin.workload, mergeParamArgs(common, [`${twin.work}=0`, ...twin.emptyModel]), opts)));
      const simFaults = sim.counts.total(EV.PAGE_FAULTS) - none.counts.total(EV.PAGE_FAULTS);
      expect(simFaults).toBeGreaterThan(0);
      expect(real.loopFaults).toBe(simFaults);
      expect(real.ops).toBe(sim.counters.get(twin.ops));
    },
  );
});
