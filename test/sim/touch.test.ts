/**
 * The touch statement's loop over pages (TouchLoop, src/sim/touch.ts) through the interpreter: one
 * user access a page, a page fault where the MMU cannot make it, the signal that ends a bad
 * access, and the user-mode quantum after which a long touch lets the scheduler in.
 */
import { describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { perturbation } from '../../src/config/constants.js';
import { EV } from '../../src/events/catalog.js';
import { SIGSEGV } from '../../src/mm/types.js';
import { runWorkload } from '../../src/sim/run.js';
import { faults, inlineOptions, PAGE, runInline } from './helpers.js';

const PAGES = 256;
const ACCESS_NS = getArch('x86').costs.userAccessNs;

function proc(...body: string[]): string {
  return `process {\n${body.map((l) => `  ${l}\n`).join('')}}\n`;
}

/** `body` in `n` threads, each with its own region `a` of PAGES pages. */
function perThread(n: number, ...body: string[]): string {
  return proc(`threads ${n} {`, `  a = mmap ${PAGES * PAGE}`, ...body.map((l) => `  ${l}`), '}');
}

describe('touch', () => {
  test.each([1, 4])('a write pass over fresh pages takes one fault a page (%i CPUs, a region per thread)', (ncpus) => {
    const r = runInline(perThread(ncpus, 'touch a write count ops'), { ncpus });
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ops')).toBe(ncpus * PAGES);
    expect(faults(r).pf).toBe(ncpus * PAGES);
    expect(faults(r).minor).toBe(ncpus * PAGES);
  });

  test('a second pass over the same pages takes no fault and costs one user access a page', () => {
    const r = runInline(perThread(1, 'touch a write', 'let t0 = now', 'touch a write count again', 'count second_ns (now - t0) * 1000000000'));
    expect(r.counters.get('again')).toBe(PAGES);
    expect(faults(r).pf).toBe(PAGES);
    expect(r.counters.get('second_ns')).toBeCloseTo(PAGES * ACCESS_NS, 3);
  });

  test('a write to a read-only mapping stops at the first page with SIGSEGV; nothing after it runs', () => {
    const r = runInline(proc(`a = mmap ${PAGES * PAGE} r`, 'touch a write count w', 'count after'));
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.counters.get('w') ?? 0).toBe(0);
    expect(r.counters.get('after') ?? 0).toBe(0);
    expect(faults(r).pf).toBe(1);
  });

  test('two long fault-free touches on one CPU take turns; with a quantum longer than the touch, one waits for the other', () => {
    // 1e6 accesses (10 ms) to pages already mapped: no fault syncs, so only the user-mode
    // quantum (TOUCH_USER_SYNC) lets the scheduler preempt a thread in the middle of its touch.
    const src = perThread(
      2,
      'touch a write',
      'barrier',
      'touch a write random 1000000',
      'if $tid == 0 {',
      '  count end0_ms now * 1000',
      '} else {',
      '  count end1_ms now * 1000',
      '}',
    );
    const run = (quantumFactor: number) =>
      runWorkload({ ...inlineOptions(src, { ncpus: 1 }), perturb: perturbation([['USER_QUANTUM_NS', quantumFactor]]) });
    const ends = (r: ReturnType<typeof run>) => [r.counters.get('end0_ms')!, r.counters.get('end1_ms')!].sort((a, b) => a - b);
    const shared = run(1);
    const [first, last] = ends(shared);
    expect(last).toBeGreaterThan(20);
    // Time-sliced (3 ms slices): the first to finish does so within a slice of the last.
    expect(last - first).toBeLessThan(3.5);
    expect(shared.counts.total(EV.CONTEXT_SWITCHES)).toBeGreaterThan(4);
    // A 200 ms quantum: each touch runs to its end before the other starts (one 10 ms apart).
    const [first2, last2] = ends(run(1e5));
    expect(last2 - first2).toBeGreaterThan(9);
  });
});
