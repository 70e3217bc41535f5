/**
 * find_vma()'s era cache (kconfig `vmacache`, src/mm/fault.ts findVmaCached) and the wiring of
 * CONFIG_RWSEM_SPIN_ON_OWNER to every mm's mmap lock.
 *  - `mm`: one mm->mmap_cache per mm, on the line `mmap_cache(<pid>)`: threads faulting in
 *    different VMAs keep rewriting it, and the line bounces between their CPUs.
 *  - `task`: a per-thread cache, no shared line; `none`: the plain walk.
 * The cache changes costs only: which VMA a fault finds, hence every count, is the same.
 */
import { describe, expect, test } from 'vitest';
import type { VmaCacheKind } from '../../src/config/kconfig.js';
import { EV } from '../../src/events/catalog.js';
import type { Thread } from '../../src/mm/kernel.js';
import { SIGSEGV } from '../../src/mm/types.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { faults, mmOptions, RecordingSink, vmaAt, workloadThreads } from './helpers.js';

const MODES: readonly VmaCacheKind[] = ['mm', 'task', 'none'];

interface Run {
  readonly r: RunResult;
  readonly threads: Thread[];
}

/** multi-fault (threads in their own VMAs), small, the way `spfperf stat --config ...` runs it. */
function multiFault(config: readonly string[], threads = 4): Run {
  const p = prepareRun('multi-fault', [`threads=${threads}`, 'rounds=2', 'area=64K'], { cpus: '8', config });
  const sink = new RecordingSink();
  const r = runWorkload({ ...runOptionsOf(p), sinks: [sink], keepAddressSpaces: true });
  return { r, threads: workloadThreads(sink) };
}

/** The counts a find_vma cache must not change. */
function counts(r: RunResult) {
  return { ...faults(r), spf: r.counts.total(EV.SPF), counters: [...r.counters], signals: r.signals };
}

describe('vmacache: find_vma through the era cache', () => {
  test('the default is none, and prepareRun passes the key on to the run', () => {
    const p = prepareRun('multi-fault', ['threads=2', 'rounds=1', 'area=16K'], { cpus: '4' });
    expect(p.config.vmacache).toBe('none');
    expect(runOptionsOf(p).vmacache).toBe('none');
    for (const m of MODES) {
      expect(runOptionsOf(prepareRun('multi-fault', ['threads=2', 'rounds=1', 'area=16K'], { cpus: '4', config: [`vmacache=${m}`] })).vmacache).toBe(m);
    }
  });

  test('mm: threads faulting in different VMAs bounce the mmap_cache(<pid>) line; task and none never touch it', () => {
    const runs = Object.fromEntries(MODES.map((m) => [m, multiFault([`vmacache=${m}`])])) as Record<VmaCacheKind, Run>;
    for (const m of MODES) expect(runs[m].threads.length, m).toBeGreaterThanOrEqual(4);
    const line = (run: Run) => run.threads[0]!.mm.mmapCacheLine;
    expect(line(runs.mm).name).toBe(`mmap_cache(${runs.mm.threads[0]!.pid})`);
    // The 4 workers fault their 16 pages each per round side by side: a worker's lookup mostly
    // finds another worker's VMA in the cache (a miss that rewrites it), so the line moves on
    // well over half of the 4 x 2 x 16 faults.
    expect(line(runs.mm).transfers).toBeGreaterThan((4 * 2 * 16) / 2);
    expect(line(runs.task).transfers).toBe(0);
    expect(line(runs.none).transfers).toBe(0);
    // mm->mmap_cache holds one of the workers' VMAs; only task fills the threads' own caches.
    const mm = runs.mm.threads[0]!.mm;
    expect(mm.mmapCache).not.toBe(null);
    expect(mm.mmapCache!.attached).toBe(true);
    expect(runs.task.threads[0]!.mm.mmapCache).toBe(null);
    expect(runs.none.threads[0]!.mm.mmapCache).toBe(null);
    const filled = (run: Run) => run.threads.filter((t) => t.vmacache !== null).length;
    expect(filled(runs.task)).toBeGreaterThanOrEqual(4);
    expect(filled(runs.mm)).toBe(0);
    expect(filled(runs.none)).toBe(0);
  });

  test('mm: a hit reads the line too (each CPU fetches it once), only a miss writes it', () => {
    // Four threads fault one after the other in ONE VMA: the first misses and fills the cache;
    // the three others hit, each reading the line from the CPU that wrote it.
    const src = 'process {\n  a = mmap 256K rw\n  threads 4 pin {\n    compute $tid * 100us\n    touch a write offset $tid * 64K length 64K\n  }\n}\n';
    const sink = new RecordingSink();
    const r = runWorkload({ ...mmOptions(src, { sinks: [sink], ncpus: 4 }), vmacache: 'mm' });
    expect(faults(r).pf).toBe(64);
    const th = workloadThreads(sink)[0]!;
    expect(th.mm.vmas.all()).toHaveLength(1);
    expect(th.mm.mmapCache).toBe(th.mm.vmas.all()[0]);
    expect(th.mm.mmapCacheLine.transfers).toBe(1 + 3); // the first thread's fill, three readers
  });

  test('the counts are the same in every mode; the times are not', () => {
    const runs = Object.fromEntries(MODES.map((m) => [m, multiFault([`vmacache=${m}`]).r])) as Record<VmaCacheKind, RunResult>;
    expect(faults(runs.none).pf).toBe(4 * 2 * 16);
    expect(counts(runs.task)).toEqual(counts(runs.none));
    expect(counts(runs.mm)).toEqual(counts(runs.none));
    // The shared pointer costs a line transfer on most faults: mm is the slowest.
    expect(runs.mm.elapsedNs).toBeGreaterThan(runs.none.elapsedNs);
    expect(runs.mm.elapsedNs).toBeGreaterThan(runs.task.elapsedNs);
    expect(runs.mm.sysNs).toBeGreaterThan(runs.none.sysNs);
    expect(runs.task.elapsedNs).not.toBe(runs.none.elapsedNs);
    // Each mode is deterministic.
    expect(multiFault(['vmacache=mm']).r.elapsedNs).toBe(runs.mm.elapsedNs);
  });

  test.each(MODES)('%s: a cached VMA that was unmapped is not used (the fault after munmap is SIGSEGV)', (mode) => {
    const src = 'process {\n  a = mmap 64K rw\n  touch a write\n  munmap a\n  touch a read\n  count after\n}\n';
    const r = runWorkload({ ...mmOptions(src), vmacache: mode });
    expect(r.signals).toHaveLength(1);
    expect(r.signals[0]!.signal).toBe(SIGSEGV);
    expect(r.signals[0]!.detail).toMatch(/^no mapping at 0x[0-9a-f]+$/);
    expect(r.counters.get('after') ?? 0).toBe(0);
    expect(faults(r).pf).toBe(16 + 1);
  });

  test.each(MODES)('%s: a cached VMA is used only for addresses it covers', (mode) => {
    // a (rw) and b (read-only) are two VMAs (different flags: no merge). After a's faults the
    // cache holds a; b's faults must find b, not reuse a.
    const src = 'process {\n  a = mmap 64K rw\n  b = mmap 64K r\n  touch a write\n  touch b read\n}\n';
    const sink = new RecordingSink();
    const r = runWorkload({ ...mmOptions(src, { sinks: [sink] }), vmacache: mode });
    expect(r.signals).toEqual([]);
    expect(faults(r).pf).toBe(32);
    const th = workloadThreads(sink)[0]!;
    const va = vmaAt(th, sink.faults[0]!.addr)!;
    const vb = vmaAt(th, sink.faults[16]!.addr)!;
    expect(va).not.toBe(vb);
    expect(th.mm.rss).toBe(16); // b's reads map the zero page
    expect(th.mm.mmapCache).toBe(mode === 'mm' ? vb : null);
    expect(th.vmacache).toBe(mode === 'task' ? vb : null);
  });

  test.each(MODES)('%s: a write to a read-only VMA next to the cached writable one is SIGSEGV', (mode) => {
    const src = 'process {\n  a = mmap 64K rw\n  b = mmap 64K r\n  touch a write\n  touch b write\n  count after\n}\n';
    const r = runWorkload({ ...mmOptions(src), vmacache: mode });
    expect(r.signals).toHaveLength(1);
    expect(r.signals[0]!.signal).toBe(SIGSEGV);
    expect(r.signals[0]!.detail).toMatch(/^write to [0-9a-f]+-[0-9a-f]+ r--p at 0x[0-9a-f]+$/);
    expect(r.counters.get('after') ?? 0).toBe(0);
  });
});

describe('CONFIG_RWSEM_SPIN_ON_OWNER: the mmap lock', () => {
  const spin = (config: readonly string[]): boolean => multiFault(config, 2).threads[0]!.mm.mmapLock.spinOnOwner;

  test('spins on a running writer owner by default (y), sleeps with =n', () => {
    expect(spin([])).toBe(true);
    expect(spin(['CONFIG_RWSEM_SPIN_ON_OWNER=y'])).toBe(true);
    expect(spin(['CONFIG_RWSEM_SPIN_ON_OWNER=n'])).toBe(false);
  });

  test('RunOptions without the knob spin; rwsemSpinOnOwner=false does not', () => {
    const src = 'process {\n  a = mmap 16K rw\n  touch a write\n}\n';
    const lockOf = (extra: object) => {
      const sink = new RecordingSink();
      runWorkload({ ...mmOptions(src, { sinks: [sink] }), ...extra });
      return workloadThreads(sink)[0]!.mm.mmapLock.spinOnOwner;
    };
    expect(lockOf({})).toBe(true);
    expect(lockOf({ rwsemSpinOnOwner: true })).toBe(true);
    expect(lockOf({ rwsemSpinOnOwner: false })).toBe(false);
  });
});
