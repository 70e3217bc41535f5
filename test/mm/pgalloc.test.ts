/**
 * Page-table pages (src/mm/pgalloc.ts): mm->pgtables_bytes counts every table below the pgd
 * that is hooked into the mm (THP's deposited table included), and tables freed by munmap and
 * exit leave the count and go back to the allocator.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import type { MmStruct } from '../../src/mm/kernel.js';
import { PtDir, type PteTable } from '../../src/mm/pgtable.js';
import { faults, MiB, PAGE, proc, processMains, RecordingSink, runMm } from './helpers.js';

/** Tables below the pgd reachable from mm's page tables, plus each huge PMD's deposited table. */
function tablesIn(mm: MmStruct): number {
  let n = 0;
  const walk = (d: PtDir): void => {
    for (const e of d.entries) {
      if (e === null) continue;
      n++;
      if (e instanceof PtDir) walk(e);
      else if ((e as PteTable).huge && e.pfn < 0) n--; // a huge PMD without a deposited table
    }
  };
  walk(mm.pgd);
  return n;
}

function run(body: string[], o: { thp?: 'always' | 'never'; keep?: boolean } = {}) {
  const sink = new RecordingSink();
  const r = runMm(proc(...body), { sinks: [sink], thp: o.thp ?? 'never', keep: o.keep });
  const [main] = processMains(sink);
  return { r, th: main! };
}

describe('mm->pgtables_bytes', () => {
  test('counts the tables the faults populated: pud, pmd and one PTE table per 2 MiB touched', () => {
    const { th } = run(['a = mmap 4M', 'touch a write']);
    expect(th.mm.pgtablesBytes / PAGE).toBe(tablesIn(th.mm));
    // 4 MiB, 2 MiB-aligned or not, spans 2 or 3 PTE tables under one pud and one pmd.
    expect(tablesIn(th.mm)).toBeGreaterThanOrEqual(4);
  });

  test('munmap frees the tables that mapped only the unmapped range, and the count follows', () => {
    const { th } = run(['a = mmap 8M', 'touch a write', 'munmap a']);
    expect(tablesIn(th.mm)).toBe(th.mm.pgtablesBytes / PAGE);
    expect(th.mm.pgtablesBytes).toBe(0);
  });

  test('a huge PMD counts its deposited PTE table, and zapping it gives the table back', () => {
    const kept = run(['a = mmap 4M', 'madvise a hugepage', 'touch a write'], { thp: 'always' });
    expect(kept.th.mm.pgtablesBytes / PAGE).toBe(tablesIn(kept.th.mm));
    const gone = run(['a = mmap 4M', 'madvise a hugepage', 'touch a write', 'munmap a'], { thp: 'always' });
    expect(gone.th.mm.pgtablesBytes).toBe(0);
  });

  test('exit frees every page the process allocated, page tables included', () => {
    const { r } = run(['a = mmap 3M', 'touch a write', 'b = mmap 1M', 'touch b read'], { keep: false });
    expect(faults(r).free).toBe(faults(r).alloc);
  });
});

describe('RCU grace periods of the designs', () => {
  for (const design of ['per-vma-lock', 'lespinasse', 'kamezawa']) {
    test(`${design}: every VMA freed by call_rcu ends a grace period, and every lookup left its read-side section`, () => {
      const sink = new RecordingSink();
      const r = runMm(proc('threads 2 {', '  a = mmap 1M', '  touch a write', '  munmap a', '  b = mmap 64K', '  touch b write', '  munmap b', '}'), {
        sinks: [sink],
        design,
        ncpus: 2,
      });
      const [main] = processMains(sink);
      const k = main!.k;
      // Two threads each unmap two VMAs: four call_rcu()s, each its own grace period.
      expect(k.rcu.gracePeriods).toBe(4);
      for (const th of k.threads) expect(k.rcu.inReader(th.t)).toBe(false);
      // ... and there were speculative lookups (read-side sections) to balance.
      const lookups = [EV.SPF, EV.SPF_ATTEMPT, EV.VMA_LOCK_SUCCESS, EV.VMA_LOCK_ABORT, EV.VMA_LOCK_MISS].reduce((n, id) => n + r.counts.total(id), 0);
      expect(lookups).toBeGreaterThan(0);
    });
  }
});
