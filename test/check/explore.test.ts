import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectedChoices, runSchedule } from '../../src/check/explore.js';
import type { ScheduleId } from '../../src/check/schedule-id.js';
import { prepareRun } from '../../src/sim/setup.js';

/** split-merge, one round, one page: the smallest run in which the 2009 RFC can lose its wake-up. */
const small = (config: string) => prepareRun('split-merge', ['rounds=1', 'pages=1'], { config: [config], check: true });
const id = (index: number): ScheduleId => ({ strategy: 'pct', depth: 3, seed: 1, index, keep: null });

describe('runSchedule', () => {
  const prep = small('kamezawa');
  const k = expectedChoices(prep, 1, 3);

  test('PCT\'s run length is measured, and the same every time', () => {
    expect(k).toBeGreaterThan(10);
    expect(expectedChoices(prep, 1, 3)).toBe(k);
  });

  test('schedule 3 loses the wake-up: the unmapper sleeps on the VMA for good', () => {
    const o = runSchedule(prep, id(3), k);
    expect(o.violation).toMatchObject({ invariant: 'no-task-waits-forever', fn: 'invalidate_vma_before_free', task: 'split-merge/1002' });
    expect(o.violation!.addr).toBe(0x7ffff7c00000);
    expect(o.violation!.detail).toMatch(/^sleeps on vma->wait_queue of VMA 7ffff7c00000-7ffff7e00000 in invalidate_vma_before_free\(\) and nothing will wake it/);
    expect(o.choices).toBeGreaterThan(0);
  });

  test('a schedule is the same run every time, and keeping its step log does not change it', () => {
    for (const i of [0, 3, 7]) {
      const a = runSchedule(prep, id(i), k);
      const b = runSchedule(prep, id(i), k, { log: true });
      expect(b.violation).toEqual(a.violation);
      expect([b.choices, b.deviations]).toEqual([a.choices, a.deviations]);
      expect(b.steps!.length).toBeGreaterThan(0);
      expect(a.steps).toBeNull();
      const c = runSchedule(prep, id(i), k, { log: true });
      expect(c.steps!.map((s) => [s.step, s.timeNs, s.task.tid, s.fn, s.addr])).toEqual(b.steps!.map((s) => [s.step, s.timeNs, s.task.tid, s.fn, s.addr]));
    }
  });

  test('without the change points (depth 3, none kept) nothing breaks; the fixed RFC never breaks', () => {
    expect(runSchedule(prep, { ...id(3), keep: [] }, k).violation).toBeNull();
    const fixed = small('kamezawa-fixed');
    const kf = expectedChoices(fixed, 1, 3);
    for (let i = 0; i < 10; i++) expect(runSchedule(fixed, id(i), kf).violation).toBeNull();
  });
});

describe('runSchedule: an error of the run is a violation of the step that threw it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-explore-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'order.spf');
  // One thread unmaps the region, the other mprotects it: in the order where the unmap goes
  // first, the mprotect fails (ENOMEM) and the interpreter stops the run.
  writeFileSync(file, '# Unmap against mprotect.\nparam threads = 2 # threads\nmetric "x/s" = 1 / elapsed\nprocess {\n  buf = mmap 8K rw private anon\n  threads $threads {\n    if $tid == 0 {\n      munmap buf\n    } else {\n      mprotect buf r\n    }\n  }\n}\n');

  test('some schedules break it (model-error, by the mprotecting thread), others complete', () => {
    const prep = prepareRun(file, [], { config: ['base'], check: true });
    const outcomes = Array.from({ length: 40 }, (_, i) => runSchedule(prep, { strategy: 'random', depth: 0, seed: 1, index: i, keep: null }, 0).violation);
    const broken = outcomes.filter((v) => v !== null);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.length).toBeLessThan(40);
    for (const v of broken) {
      expect(v).toMatchObject({ invariant: 'model-error', task: 'order/1003' });
      expect(v!.detail).toBe(`${file}:10:7: mprotect failed: ENOMEM`);
    }
  });
});

/**
 * The design mutants of docs/check.md ("Mutants"): each takes out the check of the series that
 * keeps a speculative fault from committing through a VMA changed under it. On split-merge with
 * 4 threads, 64 rounds and 128 pages, the random walk makes some fault commit through a VMA
 * that mprotect split or merged away meanwhile (fault-vma-current); the real design, on the
 * same schedules, retries that fault. The docs' 1000-schedule figures: scripts/check-figures.js.
 */
describe('design mutants', () => {
  const STALE = /^the fault commits through VMA [0-9a-f]+-[0-9a-f]+ \S+( \(detached\))?, but VMA [0-9a-f]+-[0-9a-f]+ \S+ maps it now$/;
  const busy = (config: string) => prepareRun('split-merge', ['threads=4', 'rounds=64', 'pages=128'], { config: [config], check: true });
  const random = (seed: number, index: number): ScheduleId => ({ strategy: 'random', seed, depth: 0, index, keep: null });

  /** The first of schedules 0..n-1 of `seed` that breaks an invariant, or null. */
  function first(prep: ReturnType<typeof busy>, seed: number, n: number, mutant?: 'dufour-no-seq-recheck' | 'lespinasse-no-mmap-seq-check') {
    for (let i = 0; i < n; i++) {
      const v = runSchedule(prep, random(seed, i), 0, mutant !== undefined ? { mutant } : {}).violation;
      if (v !== null) return { index: i, violation: v };
    }
    return null;
  }

  test.each([
    ['dufour-v11', 'dufour-no-seq-recheck', 3, STALE],
    ['lespinasse', 'lespinasse-no-mmap-seq-check', 2, STALE],
  ] as const)('%s without the check (%s) commits through a stale VMA; the real design passes the same schedules', (config, mutant, seed, detail) => {
    const prep = busy(config);
    const found = first(prep, seed, 10, mutant);
    expect(found).not.toBeNull();
    expect(found!.violation).toMatchObject({ invariant: 'fault-vma-current' });
    expect(found!.violation.detail).toMatch(detail);
    expect(first(prep, seed, Math.max(10, found!.index + 1))).toBeNull();
  });
});

/**
 * The per-VMA-lock mutant of docs/check.md: dup_mmap() as 6.4 shipped it, without the parent's
 * VMAs write-locked (per-vma-lock-no-fork-vma-lock). On fork-cow, a thread's copy-on-write fault
 * runs under its VMA lock while the fork's write-protected PTEs are still cached writable by
 * another thread's CPU; that thread's write lands in the old page after the copy was made, and
 * its read-back (`expect`) sees it lost. The real design, on the same schedules, makes the fault
 * wait for the fork's flush.
 */
describe('the fork mutant of per-VMA locks', () => {
  test('a COW copy made during the fork loses a write through a stale TLB entry; the real design passes', () => {
    const prep = prepareRun('fork-cow', [], { config: ['per-vma-lock'], check: true });
    const random = (index: number): ScheduleId => ({ strategy: 'random', seed: 1, depth: 0, index, keep: null });
    let found: { index: number; invariant: string; fn: string; detail: string } | null = null;
    // The random walk's first hit on seed 1 is its 17th schedule (docs/check.md); 30 leave room.
    for (let i = 0; i < 30 && found === null; i++) {
      const v = runSchedule(prep, random(i), 0, { mutant: 'per-vma-lock-no-fork-vma-lock' }).violation;
      if (v !== null) found = { index: i, ...v };
    }
    expect(found).not.toBeNull();
    expect(found).toMatchObject({ invariant: 'read-sees-last-write', fn: 'wp_page_copy' });
    expect(found!.detail).toMatch(/^a read of the word at 0x[0-9a-f]+008 saw 1\d{6}, expected 1\d{6} \(pfn \d+, filled by wp_page_copy at \d+ ns\)$/);
    for (let i = 0; i <= found!.index; i++) expect(runSchedule(prep, random(i), 0).violation).toBeNull();
  });
});
