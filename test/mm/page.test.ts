/**
 * Page tables (src/mm/pgtable.ts) and pages (src/mm/page.ts): x86 geometry, table lookup, the
 * page database, and the allocator's per-CPU batching and frame reuse as seen from workloads.
 */
import { describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { Engine } from '../../src/engine/engine.js';
import { Topology } from '../../src/engine/topology.js';
import { PageDb } from '../../src/mm/page.js';
import { lookupPteTable, PtDir, PteTable, PtGeometry } from '../../src/mm/pgtable.js';
import { faults, mainThread, MiB, RecordingSink, runInline } from '../sim/helpers.js';

const x86 = getArch('x86');

const geo = new PtGeometry(x86);

describe('PtGeometry for x86-64', () => {
  test('4 levels of 512 entries over 4 KiB pages', () => {
    expect(geo.levels).toBe(4);
    expect(geo.pageSize).toBe(4096);
    expect(geo.entries).toEqual([512, 512, 512, 512]);
    expect(geo.span).toEqual([2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12]);
    expect(geo.pteTableSpan).toBe(2 * MiB);
  });

  test('index() takes 9 bits per level above the page offset', () => {
    const addrs = [0, 0xfff, 0x1000, 0x1ff000, 0x200000, 0x3fffffff, 0x40000000, 0x7fffffffff, 0x8000000000, 0x7ffff7fff000, 0x7fffffffe000, 0x55555555a123];
    for (const a of addrs) {
      const b = BigInt(a);
      for (let lvl = 0; lvl < 4; lvl++) {
        const shift = BigInt(12 + 9 * (3 - lvl));
        expect(geo.index(lvl, a), `0x${a.toString(16)} level ${lvl}`).toBe(Number((b >> shift) & 511n));
      }
    }
    expect([0, 1, 2, 3].map((l) => geo.index(l, 0x7ffff7fff000))).toEqual([255, 511, 447, 511]);
  });
});

describe('lookupPteTable', () => {
  const eng = new Engine(new Topology({ sockets: 1, coresPerSocket: 1, threadsPerCore: 1 }, x86.lineLatencies), { contextSwitchNs: 0, wakeupNs: 0, timesliceNs: 1e6, jitter: 0 }, 1);

  test('walks present levels and stops at the first missing one', () => {
    const addr = 0x7ffff7fff000;
    const pgd = new PtDir(512);
    expect(lookupPteTable(geo, pgd, addr)).toBeNull();
    const pud = new PtDir(512);
    pgd.entries[geo.index(0, addr)] = pud;
    expect(lookupPteTable(geo, pgd, addr)).toBeNull();
    const pmd = new PtDir(512);
    pud.entries[geo.index(1, addr)] = pmd;
    expect(lookupPteTable(geo, pgd, addr)).toBeNull();
    const pt = new PteTable(eng, 512, addr - (addr % geo.pteTableSpan));
    pmd.entries[geo.index(2, addr)] = pt;
    expect(lookupPteTable(geo, pgd, addr)).toBe(pt);
    // Every address of the same 2 MiB maps through it; the next 2 MiB does not.
    expect(lookupPteTable(geo, pgd, pt.base)).toBe(pt);
    expect(lookupPteTable(geo, pgd, pt.base + geo.pteTableSpan - 1)).toBe(pt);
    expect(lookupPteTable(geo, pgd, pt.base + geo.pteTableSpan)).toBeNull();
    expect(lookupPteTable(geo, pgd, pt.base - 1)).toBeNull();
  });
});

describe('PageDb', () => {
  test('hands out fresh frames from 1 (0 is the zero page) up to the limit, growing its arrays', () => {
    const db = new PageDb(3000);
    expect(db.refcount[0]).toBe(1);
    const got: number[] = [];
    for (;;) {
      const pfn = db.fresh();
      if (pfn < 0) break;
      got.push(pfn);
      db.refcount[pfn] = pfn;
    }
    expect(got).toHaveLength(2999);
    expect(got[0]).toBe(1);
    expect(got[got.length - 1]).toBe(2999);
    expect(db.refcount.length).toBeGreaterThanOrEqual(3000);
    expect(db.flags.length).toBe(db.refcount.length);
    expect(db.mapcount.length).toBe(db.refcount.length);
    // Values survive the growth.
    expect(db.refcount[1]).toBe(1);
    expect(db.refcount[1023]).toBe(1023);
    expect(db.refcount[2999]).toBe(2999);
    expect(db.fresh()).toBe(-1);
  });
});

describe('page allocator and page tables, through workloads', () => {
  test('the zone lock is taken once per batch of 31 pages on one CPU', () => {
    const sink = new RecordingSink();
    const r = runInline('process {\n  a = mmap 1M\n  touch a write\n}\n', { sinks: [sink] });
    const th = mainThread(sink);
    // 256 data pages + pud, pmd and one or two PTE tables.
    const allocs = faults(r).alloc;
    expect(allocs).toBe(th.k.alloc.inUse);
    expect(th.k.alloc.zoneLock.stats.acquired).toBe(Math.ceil(allocs / th.k.alloc.batch));
    // The mmap (write) and every fault (read) took mmap_lock once.
    expect(th.mm.mmapLock.stats.acquired).toBe(1 + 256);
    expect(th.mm.mmapLock.stats.contended).toBe(0);
  });

  test('freed frames are reused: repeated mmap/touch/munmap does not grow the frame pool', () => {
    const once = new RecordingSink();
    runInline('process {\n  a = mmap 1M\n  touch a write\n  munmap a\n}\n', { sinks: [once] });
    const many = new RecordingSink();
    const r = runInline('process {\n  loop 20 {\n    a = mmap 1M\n    touch a write\n    munmap a\n  }\n}\n', { sinks: [many] });
    expect(faults(r).alloc).toBeGreaterThanOrEqual(20 * 256);
    expect(faults(r).free).toBe(faults(r).alloc);
    const hw1 = mainThread(once).k.pages.highWater;
    const hw20 = mainThread(many).k.pages.highWater;
    // At most a few batches beyond what one round needed.
    expect(hw20).toBeLessThanOrEqual(hw1 + 2 * 31);
  });

  test('touching one page in each of two 2 MiB ranges allocates a PTE table for each', () => {
    const sink = new RecordingSink();
    const r = runInline('process {\n  a = mmap 8M\n  touch a write stride 2M\n}\n', { sinks: [sink] });
    const th = mainThread(sink);
    expect(faults(r).pf).toBe(4);
    const tables = new Set(sink.faults.map((f) => lookupPteTable(th.k.geo, th.mm.pgd, f.addr)));
    expect(tables.has(null)).toBe(false);
    expect(tables.size).toBe(4);
    for (const pt of tables) {
      expect(pt!.used).toBe(1);
      expect(pt!.pfn).toBeGreaterThan(0);
    }
    // 4 data pages + 4 PTE tables + the pud and the one or two pmds above them.
    expect(faults(r).alloc).toBeGreaterThanOrEqual(4 + 4 + 2);
    expect(faults(r).alloc).toBeLessThanOrEqual(4 + 4 + 3);
  });

  test('munmap frees the page tables of a range no other VMA shares', () => {
    const sink = new RecordingSink();
    const r = runInline('process {\n  keep = mmap 4K\n  touch keep write\n  a = mmap 8M\n  touch a write stride 2M\n  munmap a\n}\n', { sinks: [sink] });
    const th = mainThread(sink);
    expect(r.signals).toEqual([]);
    const [keep, ...rest] = sink.faults;
    // The tables that mapped only `a` are gone; the one mapping `keep` remains.
    for (const f of rest) {
      const pt = lookupPteTable(th.k.geo, th.mm.pgd, f.addr);
      if (pt !== null) expect(pt.base).toBe(lookupPteTable(th.k.geo, th.mm.pgd, keep!.addr)!.base);
    }
    expect(lookupPteTable(th.k.geo, th.mm.pgd, keep!.addr)!.used).toBe(1);
    expect(th.k.alloc.inUse).toBeLessThanOrEqual(1 + 4); // keep's page + its tables
    expect(th.mm.rss).toBe(1);
  });
});
