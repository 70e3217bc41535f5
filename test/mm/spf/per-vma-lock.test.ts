/**
 * Per-VMA locks as merged in 6.4 (src/mm/spf/per-vma-lock.ts): vma_lock_success, _abort and
 * _miss each provoked by a small workload on the engine, and the accounting: faults are either
 * completed under the VMA lock or taken on the mmap-lock path; spf stays 0.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../../src/events/catalog.js';
import type { RunResult } from '../../../src/sim/run.js';
import { SIGSEGV } from '../../../src/mm/types.js';
import { pagefaultEvents, proc, runDesign, total, totals, W, workerTotal } from './helpers.js';
import { resolveConfig } from '../../../src/config/kconfig.js';

const LOCK_EVENTS = [EV.PAGE_FAULTS, EV.PGFAULT, EV.VMA_LOCK_SUCCESS, EV.VMA_LOCK_ABORT, EV.VMA_LOCK_RETRY, EV.VMA_LOCK_MISS];

/** handle_mm_fault() calls made under the mmap lock: pgfault minus those made under a VMA lock. */
function mmapLockPath(r: RunResult): number {
  return total(r, EV.PGFAULT) - total(r, EV.VMA_LOCK_SUCCESS) - total(r, EV.VMA_LOCK_RETRY);
}

/**
 * Run under `per-vma-lock` and check the accounting that holds in every run: no SPF counter
 * or tracepoint moves, and every fault that reached handle_mm_fault did so once, either under
 * the VMA lock (success) or on the mmap-lock path after an abort (or a retry).
 */
function perVma(source: string, ncpus: number, seed = 1): RunResult {
  const r = runDesign('per-vma-lock', source, { ncpus, seed });
  const msg = JSON.stringify(totals(r, LOCK_EVENTS));
  expect(total(r, EV.SPF), msg).toBe(0);
  expect(total(r, EV.SPF_ATTEMPT) + total(r, EV.SPECULATIVE_PGFAULT) + pagefaultEvents(r)).toBe(0);
  // (A fault that falls back and then finds no VMA ends in SIGSEGV before handle_mm_fault.)
  if (r.signals.length === 0) expect(mmapLockPath(r), msg).toBe(total(r, EV.VMA_LOCK_ABORT) + total(r, EV.VMA_LOCK_RETRY));
  else expect(mmapLockPath(r), msg).toBeLessThanOrEqual(total(r, EV.VMA_LOCK_ABORT) + total(r, EV.VMA_LOCK_RETRY));
  // Anonymous memory: no handler asks for a retry under the VMA lock (that needs swap or files).
  expect(total(r, EV.VMA_LOCK_RETRY)).toBe(0);
  return r;
}

/** faults == vma_lock_success + faults taken on the mmap-lock path (when nobody got a signal). */
function expectAllAccounted(r: RunResult): void {
  expect(total(r, EV.PAGE_FAULTS), JSON.stringify(totals(r, LOCK_EVENTS))).toBe(total(r, EV.VMA_LOCK_SUCCESS) + mmapLockPath(r));
}

describe('per-vma-lock: vma_lock_success', () => {
  test('faults in an anonymous VMA that already has an anon_vma complete under the VMA lock', () => {
    // The main thread's first write attaches the anon_vma (on the mmap-lock path: one abort;
    // 6.4's x86 handler does not skip single-threaded processes). The worker's faults,
    // including those that must allocate a PTE table, all succeed under the VMA lock.
    const r = perVma(W.preparedNoTables(), 2);
    expect(total(r, EV.VMA_LOCK_ABORT)).toBe(1);
    expect(r.counts.of(0, EV.VMA_LOCK_ABORT)).toBe(1);
    expect(total(r, EV.VMA_LOCK_SUCCESS)).toBe(workerTotal(r, EV.PAGE_FAULTS));
    expectAllAccounted(r);
  });

  test('threads hammering one PTE table: the PTE lock is taken normally, everything succeeds', () => {
    const r = perVma(W.samePteTable(8), 8);
    expect(total(r, EV.VMA_LOCK_SUCCESS)).toBe(workerTotal(r, EV.PAGE_FAULTS));
    expect(total(r, EV.VMA_LOCK_ABORT)).toBe(1);
    expectAllAccounted(r);
  });
});

describe('per-vma-lock: vma_lock_abort', () => {
  test('the first fault of a fresh mapping (no anon_vma: find_mergeable_anon_vma needs the mmap lock)', () => {
    const r = perVma(W.fresh(), 2);
    expect(total(r, EV.VMA_LOCK_ABORT)).toBe(1);
    expect(total(r, EV.VMA_LOCK_SUCCESS)).toBe(total(r, EV.PAGE_FAULTS) - 1);
    expectAllAccounted(r);
  });

  test('faults in file-backed and shmem VMAs (6.4: anonymous VMAs only)', () => {
    // (Not through perVma(): file faults may pass through handle_mm_fault twice on the
    // mmap-lock path, e.g. the retry after fault_dirty_shared_page, and pgfault counts both.)
    const r = runDesign('per-vma-lock', W.fileBacked(), { ncpus: 2 });
    expect(total(r, EV.VMA_LOCK_ABORT)).toBe(total(r, EV.PAGE_FAULTS));
    expect(total(r, EV.VMA_LOCK_SUCCESS) + total(r, EV.VMA_LOCK_RETRY) + total(r, EV.VMA_LOCK_MISS)).toBe(0);
    expect(total(r, EV.SPF)).toBe(0);
    expect(r.signals).toEqual([]);
  });

  test('faults while a concurrent mprotect or mmap/munmap has the VMA write-locked', () => {
    const control = perVma(W.noWriter(), 4);
    // Without a writer only the main thread's first fault (no anon_vma yet) aborts.
    expect(total(control, EV.VMA_LOCK_ABORT)).toBe(1);
    expectAllAccounted(control);
    for (const w of [W.mprotectWriter(), W.mmapWriter()]) {
      const r = perVma(w, 4);
      // vma_start_write() marks the VMA until mmap_write_unlock(); vma_start_read() fails meanwhile.
      expect(total(r, EV.VMA_LOCK_ABORT)).toBeGreaterThan(10);
      expect(total(r, EV.VMA_LOCK_SUCCESS)).toBeGreaterThan(0);
      expect(r.signals).toEqual([]);
      expectAllAccounted(r);
    }
  });

  test('a write to a read-only VMA: 6.4 drops the VMA lock and lets the mmap-lock path signal, counting nothing', () => {
    const r = perVma(W.writeReadOnly(), 2);
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.signals[0].detail).toMatch(/^write to [0-9a-f]+-[0-9a-f]+ r--p at 0x/);
    // The failing fault is neither a success, an abort nor a retry, and never reaches handle_mm_fault.
    const lockEvents = total(r, EV.VMA_LOCK_SUCCESS) + total(r, EV.VMA_LOCK_ABORT) + total(r, EV.VMA_LOCK_RETRY);
    expect(total(r, EV.PAGE_FAULTS)).toBe(lockEvents + 1);
    expect(workerTotal(r, EV.VMA_LOCK_SUCCESS) + workerTotal(r, EV.VMA_LOCK_ABORT)).toBe(0);
  });
});

describe('per-vma-lock: vma_lock_miss', () => {
  test('munmap write-locks a VMA before it leaves the tree, so a racing fault aborts instead of missing', () => {
    // Seven threads write to pages of `v` while thread 0 unmaps it (a use-after-munmap in the
    // program). As in 6.4, detach happens only after vma_start_write(): a fault that found the
    // VMA fails vma_start_read() (vma_lock_abort) and never sees it detached (vma_lock_miss).
    let aborts = 0;
    for (let d = 0; d < 60; d++) {
      const src = proc(
        'v = mmap 4M',
        'touch v write length 4K',
        'threads 8 {',
        '  if $tid == 0 {',
        `    compute ${20_000 + d * 37}ns`,
        '    munmap v',
        '  } else {',
        '    touch v write offset 4K + ($tid - 1) * 4K stride 28K',
        '  }',
        '}',
      );
      const r = perVma(src, 8);
      expect(total(r, EV.VMA_LOCK_MISS)).toBe(0);
      aborts += total(r, EV.VMA_LOCK_ABORT);
      expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    }
    expect(aborts).toBeGreaterThan(0);
  });
});

describe('per-vma-lock: not a speculative design', () => {
  test('spf stays 0 whatever the workload; faults = vma_lock_success + mmap-lock-path faults', () => {
    const ws: [string, number][] = [
      [W.fresh(), 2], [W.preparedNoTables(), 2], [W.mprotectWriter(), 4], [W.mmapWriter(), 4],
      [W.samePteTable(8), 8], [W.singleThreaded(), 1], [W.singleWorkerThread(), 2],
    ];
    for (const [w, n] of ws) {
      const r = perVma(w, n);
      expect(total(r, EV.SPF)).toBe(0);
      expectAllAccounted(r);
    }
  });

  test('a single-threaded process still takes its faults under VMA locks (6.4 x86 has no mm_users check)', () => {
    const r = perVma(W.singleThreaded(), 1);
    expect(r.threads).toHaveLength(1);
    expect(total(r, EV.VMA_LOCK_SUCCESS)).toBeGreaterThan(0);
    expect(total(r, EV.SPF)).toBe(0);
  });
});

describe('per-vma-lock from 6.10: a missing anon_vma is attached under the VMA lock (vmf_anon_prepare)', () => {
  test('the first fault of a fresh mapping completes under the VMA lock, with the mmap lock trylocked for the anon_vma', () => {
    const r = runDesign('per-vma-lock', W.fresh(), { ncpus: 2, extra: ['kernel=6.10'] });
    expect(total(r, EV.VMA_LOCK_ABORT)).toBe(0);
    expect(total(r, EV.VMA_LOCK_RETRY)).toBe(0);
    expect(total(r, EV.VMA_LOCK_SUCCESS)).toBe(total(r, EV.PAGE_FAULTS));
    // 6.9, the same run: the first fault gives up in lock_vma_under_rcu().
    const old = runDesign('per-vma-lock', W.fresh(), { ncpus: 2, extra: ['kernel=6.9'] });
    expect(total(old, EV.VMA_LOCK_ABORT)).toBe(1);
  });

  test('when the trylock fails (another thread holds the mmap lock for writing) the fault retries on the mmap-lock path', () => {
    // Thread 0 maps and unmaps all the time; the others each write fresh one-page mappings.
    const src = proc(
      'threads 4 {',
      '  if $tid == 0 {',
      '    loop 120 {',
      '      x = mmap 64K',
      '      munmap x',
      '    }',
      '  } else {',
      '    loop 40 {',
      '      c = mmap 4K',
      '      touch c write',
      '      munmap c',
      '    }',
      '  }',
      '}',
    );
    const r = runDesign('per-vma-lock', src, { ncpus: 4, extra: ['kernel=6.18'] });
    const retries = total(r, EV.VMA_LOCK_RETRY);
    expect(retries).toBeGreaterThan(0);
    // A retried fault went through handle_mm_fault() twice: under the VMA lock, then the mmap lock.
    expect(total(r, EV.PGFAULT)).toBe(total(r, EV.PAGE_FAULTS) + retries);
    const old = runDesign('per-vma-lock', src, { ncpus: 4, extra: ['kernel=6.4'] });
    expect(total(old, EV.VMA_LOCK_RETRY)).toBe(0);
    expect(total(old, EV.VMA_LOCK_ABORT)).toBeGreaterThan(0);
  });
});

describe('per-vma-lock from 6.15: vma->vm_refcnt (vma_lock=refcount)', () => {
  // Threads 1-3 write fresh pages of one big VMA all along; thread 0 write-locks that VMA again
  // and again (an mprotect of one page splits it and merges it back), meeting faults in flight.
  const src = proc(
    'r = mmap 8M',
    'touch r write length 4K',
    'threads 4 {',
    '  if $tid == 0 {',
    '    loop 60 {',
    '      mprotect r r offset 7M length 4K',
    '      mprotect r rw offset 7M length 4K',
    '    }',
    '  } else {',
    '    touch r write offset $tid * 1M length 1M',
    '  }',
    '}',
  );

  test('the writer sleeps until the faults are gone instead of spinning on them, and a fault wakes it', () => {
    const refcount = runDesign('per-vma-lock', src, { ncpus: 4, extra: ['kernel=6.15'] });
    const rwsem = runDesign('per-vma-lock', src, { ncpus: 4, extra: ['kernel=6.14'] });
    for (const r of [refcount, rwsem]) expectAllAccounted(r);
    // 6.14's writer spins (up to 10 us on readers) and gets the lock as the short fault leaves it;
    // 6.15's sleeps every time it finds one: more context switches for the same work.
    expect(total(refcount, EV.CONTEXT_SWITCHES)).toBeGreaterThan(total(rwsem, EV.CONTEXT_SWITCHES));
    expect(total(refcount, EV.PAGE_FAULTS)).toBe(total(rwsem, EV.PAGE_FAULTS));
  });

  test('kernel=6.15 sets it; the preset alone is the lock as merged in 6.4', () => {
    expect(resolveConfig(['per-vma-lock', 'kernel=6.15']).designSettings.vma_lock).toBe('refcount');
    expect(resolveConfig(['per-vma-lock', 'kernel=6.14']).designSettings.vma_lock).toBe('rwsem');
    expect(resolveConfig(['per-vma-lock']).designSettings.vma_lock).toBe('rwsem');
  });
});
