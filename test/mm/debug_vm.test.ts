/**
 * The run-time invariant checks (src/mm/debug_vm.ts, docs/invariants.md): each invariant is
 * broken on purpose in a small scenario (the state corrupted at a set time while the workload
 * sleeps, or a kernel step called on a page it must not touch) and the check is seen to stop the
 * run with that invariant named; the same scenarios unbroken run clean.
 */
import { describe, expect, test } from 'vitest';
import { ViolationError } from '../../src/check/violation.js';
import { RwLock, SpinLock } from '../../src/engine/locks.js';
import type { Kernel } from '../../src/mm/kernel.js';
import { lookupPteTable, type PteTable } from '../../src/mm/pgtable.js';
import { PTE_SHIFT } from '../../src/mm/types.js';
import type { Vma } from '../../src/mm/vma.js';
import { runWorkload } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { inlineOptions } from '../sim/helpers.js';
import { shippedWorkloadNames } from '../../src/workload/load.js';

/** The time the tests break the state at: every scenario has done its first faults by then and sleeps. */
const BREAK_NS = 50_000;

interface Scenario {
  readonly keep?: boolean;
  readonly scanEvery?: number;
  readonly ncpus?: number;
}

function run(src: string, hook: ((k: Kernel) => void) | null, o: Scenario = {}): ViolationError | null {
  const opts = inlineOptions(src, { ncpus: o.ncpus ?? 1 });
  try {
    runWorkload({
      ...opts,
      keepAddressSpaces: o.keep ?? true,
      checkInvariants: o.scanEvery !== undefined ? { scanEvery: o.scanEvery } : true,
      ...(hook !== null ? { testHook: hook } : {}),
    });
    return null;
  } catch (e) {
    if (e instanceof ViolationError) return e;
    throw e;
  }
}

/** Run `src` with `breakIt` applied at BREAK_NS; the violation it must end in. */
function broken(src: string, breakIt: (k: Kernel) => void, o: Scenario = {}): ViolationError {
  const v = run(src, (k) => k.eng.at(BREAK_NS, () => breakIt(k)), o);
  if (v === null) throw new Error('the broken scenario ran clean');
  return v;
}

const mmOf = (k: Kernel) => k.processes[0].mm;
const vmaAt = (k: Kernel, i: number): Vma => mmOf(k).vmas.all()[i];
const ptOf = (k: Kernel, addr: number): PteTable => lookupPteTable(k.geo, mmOf(k).pgd, addr)!;
const pfnAt = (k: Kernel, addr: number): number => ptOf(k, addr).ptes[k.geo.index(k.geo.levels - 1, addr)] >>> PTE_SHIFT;

/** 16 pages written, a sleep (the state is broken at 50 us), then the rest of the scenario. */
const TOUCHED = (...after: string[]): string => `process {\n  c = mmap 128K\n  touch c write length 64K\n  sleep 100us\n${after.map((l) => `  ${l}\n`).join('')}}\n`;

const SCENARIOS: Record<string, string> = {
  touched: TOUCHED('touch c read length 64K'),
  unmapped: TOUCHED('munmap c'),
  second: TOUCHED('touch c write offset 64K length 4K'),
  adjacent: 'process {\n  a = mmap 64K rw\n  b = mmap 64K r\n  touch a write\n  sleep 100us\n  touch b read\n}\n',
  swapped: TOUCHED('madvise c pageout length 64K', 'sleep 100us', 'touch c read length 4K'),
};

describe('each scenario runs clean when nothing is broken', () => {
  for (const [name, src] of Object.entries(SCENARIOS)) {
    test(name, () => {
      expect(run(src, null, { scanEvery: 1 })).toBeNull();
      expect(run(src, null, { keep: false })).toBeNull();
    });
  }
});

describe('pages', () => {
  test('pte-maps-live-page: a mapped page whose mapcount does not count its PTE (a scan finds it)', () => {
    let at = -1;
    const v = broken(
      SCENARIOS.touched,
      (k) => {
        at = vmaAt(k, 0).start;
        k.pages.mapcount[pfnAt(k, at)] = 0;
      },
      { scanEvery: 1 },
    );
    expect(v.violation.invariant).toBe('pte-maps-live-page');
    expect(v.violation.detail).toMatch(/is mapped by 1 PTE\(s\) but its mapcount is 0/);
    expect(v.violation.addr).toBe(at);
    expect(v.violation.timeNs).toBeGreaterThanOrEqual(BREAK_NS);
  });

  test('pte-maps-live-page: a PTE that maps a freed page, seen at the fault that set it', () => {
    // The page of the next fault is taken off the allocator's books as soon as it is handed out.
    let armed = false;
    let at = -1;
    const v = run(SCENARIOS.second, (k) => {
      const dbg = k.dbg!;
      const alloc = dbg.pageAlloc.bind(dbg);
      dbg.pageAlloc = (th, pfn) => {
        alloc(th, pfn);
        if (armed) dbg.pageFree(th, pfn); // bad_page() passes: refcount and mapcount are still 0
      };
      k.eng.at(BREAK_NS, () => {
        armed = true;
        at = vmaAt(k, 0).start + 64 * 1024;
      });
    })!;
    expect(v.violation).toMatchObject({ invariant: 'pte-maps-live-page', task: 'inline/1000', fn: 'do_anonymous_page', addr: at });
    expect(v.violation.detail).toMatch(/which is free/);
  });

  test('page-freed-unmapped: munmap frees a page whose mapcount says it is still mapped (bad_page)', () => {
    const v = broken(SCENARIOS.unmapped, (k) => (k.pages.mapcount[pfnAt(k, vmaAt(k, 0).start)] = 2));
    expect(v.violation.invariant).toBe('page-freed-unmapped');
    expect(v.violation.task).toBe('inline/1000');
    expect(v.violation.fn).toBe('zap_pte_range');
    expect(v.violation.detail).toMatch(/freed with mapcount 1/);
  });

  test('page-freed-unreferenced, page-freed-once, page-allocated-once: the allocator refuses bad frees and double hand-outs', () => {
    let k!: Kernel;
    expect(run(SCENARIOS.touched, (kk) => (k = kk))).toBeNull();
    const th = k.threads[0];
    const pfn = pfnAt(k, vmaAt(k, 0).start);
    const dbg = k.dbg!;
    const inv = (f: () => void): string => {
      try {
        f();
      } catch (e) {
        return (e as ViolationError).violation.invariant;
      }
      return 'none';
    };
    // Still referenced: refcount 1 with its mapping gone.
    k.pages.mapcount[pfn] = 0;
    expect(inv(() => dbg.pageFree(th, pfn))).toBe('page-freed-unreferenced');
    k.pages.refcount[pfn] = 0;
    expect(inv(() => dbg.pageFree(th, pfn))).toBe('none');
    expect(inv(() => dbg.pageFree(th, pfn))).toBe('page-freed-once');
    const live = pfnAt(k, vmaAt(k, 0).start + 4096);
    expect(inv(() => dbg.pageAlloc(th, live))).toBe('page-allocated-once');
  });

  test('mapcount-counts-ptes: at the end of the run a mapcount says one PTE more than there is', () => {
    let at = -1;
    const v = broken(SCENARIOS.touched, (k) => {
      at = vmaAt(k, 0).start;
      const pfn = pfnAt(k, at);
      k.pages.mapcount[pfn]++;
      k.pages.refcount[pfn]++; // a reference for it too: only the count of PTEs is wrong
    });
    expect(v.violation).toMatchObject({ invariant: 'mapcount-counts-ptes', fn: 'exit', addr: at });
  });

  test('pgalloc-pgfree-balance: the allocator\'s count and the vmstat counts disagree (a scan)', () => {
    const v = broken(SCENARIOS.touched, (k) => k.alloc.allocated++, { scanEvery: 1 });
    expect(v.violation.invariant).toBe('pgalloc-pgfree-balance');
    expect(v.violation.detail).toMatch(/pgalloc - pgfree is \d+ but the allocator has \d+ page\(s\) out/);
  });

  test('pgalloc-pgfree-balance: a page leaked by a lost put_page is held by nothing at the end', () => {
    let leaked = -1;
    const v = broken(SCENARIOS.unmapped, (k) => {
      leaked = pfnAt(k, vmaAt(k, 0).start);
      k.pages.refcount[leaked]++;
    });
    expect(v.violation.invariant).toBe('pgalloc-pgfree-balance');
    expect(v.violation.detail).toContain(`pfn ${leaked} (refcount 1, mapcount 0) is held by nothing`);
  });

  test('swap-entry-has-slot: a swap PTE whose slot lost its reference', () => {
    const v = broken(SCENARIOS.swapped, (k) => k.eng.at(BREAK_NS + 100_000, () => k.swap.refs.clear()), { scanEvery: 1 });
    expect(v.violation.invariant).toBe('swap-entry-has-slot');
    expect(v.violation.detail).toMatch(/referred to by 1 swap PTE\(s\) but holds 0 reference/);
  });

  test('rss-counter-state: an mm torn down with pages still counted (check_mm)', () => {
    const v = broken(SCENARIOS.touched, (k) => (mmOf(k).rss += 5), { keep: false });
    expect(v.violation).toMatchObject({ invariant: 'rss-counter-state', fn: 'check_mm' });
    expect(v.violation.detail).toMatch(/RSS of 5 page/);
  });
});

describe('VMAs and page tables', () => {
  test('vma-tree-ordered: a VMA grown over its neighbour (validate_mm)', () => {
    const v = broken(SCENARIOS.adjacent, (k) => (vmaAt(k, 0).end += 4096), { scanEvery: 1 });
    expect(v.violation).toMatchObject({ invariant: 'vma-tree-ordered', fn: 'validate_mm' });
    expect(v.violation.detail).toMatch(/overlaps/);
  });

  test('vma-tree-ordered: an mmap links a VMA over another (a broken get_unmapped_area; checked at vma_link)', () => {
    const src = 'process {\n  a = mmap 64K rw\n  touch a write\n  sleep 100us\n  b = mmap 64K r\n}\n';
    expect(run(src, null, { scanEvery: 1e9 })).toBeNull();
    // The free-area search answers an address inside a: b is placed over it.
    const v = broken(
      src,
      (k) => {
        const a = vmaAt(k, 0);
        mmOf(k).vmas.unmappedAreaTopdown = () => a.start + 4096;
      },
      { scanEvery: 1e9 },
    );
    expect(v.violation).toMatchObject({ invariant: 'vma-tree-ordered', task: 'inline/1000', fn: 'do_mmap' });
    expect(v.violation.detail).toMatch(/linked into the tree overlaps/);
  });

  test('vma-use-after-free: a fault in a VMA that was freed (poisoned) while still reachable', () => {
    let at = -1;
    const v = broken(
      SCENARIOS.second,
      (k) => {
        at = vmaAt(k, 0).start + 64 * 1024;
        k.dbg!.vmaFreed(vmaAt(k, 0), BREAK_NS);
      },
      { scanEvery: 1e9 },
    );
    expect(v.violation).toMatchObject({ invariant: 'vma-use-after-free', task: 'inline/1000', fn: 'do_anonymous_page', addr: at });
    expect(v.violation.detail).toMatch(/freed at 50000 ns/);
  });

  test('vma-tree-ordered: a scan finds a freed VMA still in the tree', () => {
    const v = broken(SCENARIOS.touched, (k) => k.dbg!.vmaFreed(vmaAt(k, 0), BREAK_NS), { scanEvery: 1 });
    expect(v.violation.invariant).toBe('vma-tree-ordered');
    expect(v.violation.detail).toMatch(/is in the tree but was freed/);
  });

  test('pgtable-use-after-free: a fault through a PTE table that was freed', () => {
    const v = broken(SCENARIOS.second, (k) => k.dbg!.pgtableFreed(ptOf(k, vmaAt(k, 0).start), BREAK_NS), { scanEvery: 1e9 });
    expect(v.violation).toMatchObject({ invariant: 'pgtable-use-after-free', fn: 'do_anonymous_page' });
  });

  test('pgtable-used-count: a PTE table whose count of entries in use is off', () => {
    const v = broken(SCENARIOS.touched, (k) => ptOf(k, vmaAt(k, 0).start).used++, { scanEvery: 1 });
    expect(v.violation.invariant).toBe('pgtable-used-count');
    expect(v.violation.detail).toMatch(/counts 17 entries in use, holds 16/);
  });
});

describe('locks and tasks', () => {
  test('lock-released-at-exit: a task exits holding a spinlock (lockdep at do_exit)', () => {
    let lock!: SpinLock;
    const v = run(SCENARIOS.touched, (k) => {
      lock = new SpinLock(k.eng, 'test_lock');
      k.eng.at(BREAK_NS, () => (lock.holder = k.threads[0].t));
    })!;
    expect(v.violation).toMatchObject({ invariant: 'lock-released-at-exit', task: 'inline/1000', fn: 'do_exit' });
    expect(v.violation.detail).toBe('inline/1000 exits holding test_lock');
  });

  test('lock-released-at-exit: a task exits inside an RCU read-side section', () => {
    const v = broken(SCENARIOS.touched, (k) => k.rcu.enter(k.threads[0].t));
    expect(v.violation.invariant).toBe('lock-released-at-exit');
    expect(v.violation.detail).toMatch(/exits inside an RCU read-side section/);
  });

  test('lock-released-at-exit: a read-held lock is still held at the end of the run', () => {
    let lock!: RwLock;
    const v = run(SCENARIOS.touched, (k) => {
      lock = new RwLock(k.eng, 'test_rwlock');
      k.eng.at(BREAK_NS, () => (lock.readers = 1));
    })!;
    expect(v.violation.invariant).toBe('lock-released-at-exit');
    expect(v.violation.detail).toBe('test_rwlock still held at the end of the run (1 reader(s))');
  });

  test('no-task-waits-forever: a thread waits at a barrier its sibling never reaches (the hang detector)', () => {
    const v = run('process {\n  threads 2 {\n    if $tid == 0 { barrier }\n  }\n}\n', null, { ncpus: 2 })!;
    expect(v.violation).toMatchObject({ invariant: 'no-task-waits-forever', task: 'inline/1001', fn: '' });
    expect(v.message.split('\n')[0]).toMatch(/^invariant violated: no-task-waits-forever by inline\/1001 \(\d+ ns\): workload 'inline' cannot finish: task inline\/1001 will never run again \(waiting on barrier/);
  });
});

describe('scans', () => {
  test('the default interval scans a long run a few times, and the run ends in an exact scan', () => {
    let k!: Kernel;
    const p = prepareRun('page_fault1', ['threads=2', 'iterations=2', 'size=8M'], { cpus: '2', check: true });
    runWorkload({ ...runOptionsOf(p), testHook: (kk) => (k = kk) });
    // 2 threads x 2 rounds x 2048 faults: far more items than MIN_SCAN_ITEMS, so scans ran
    // between them, plus the last one.
    expect(k.dbg!.scans).toBeGreaterThan(1);
    expect(k.dbg!.scans).toBeLessThan(100);
  });
});

/** Each shipped workload at a small size (its own parameters), for the --check runs below. */
const SMALL: Record<string, readonly string[]> = {
  'alloc-heap': ['threads=3', 'seconds=1ms', 'heap=4M', 'min_buf=64K', 'max_buf=256K', 'populate=0'],
  'app-launch': ['threads=4', 'ui_work=2ms', 'work=1ms', 'heap=4M'],
  ebizzy: ['threads=2', 'seconds=5ms'],
  'fork-cow': ['forks=2', 'span=40us'],
  'kamezawa-race': ['threads=2', 'rounds=10', 'size=8M'],
  kernbench: ['tasks=2', 'units=4', 'compile=2ms', 'heap=2M'],
  memdb: ['threads=2', 'seconds=2ms', 'size=16M'],
  'multi-fault': ['threads=2', 'rounds=10'],
  page_fault1: ['threads=2', 'iterations=2', 'size=4M'],
  page_fault2: ['threads=2', 'iterations=2', 'size=4M'],
  page_fault3: ['threads=2', 'iterations=2', 'size=4M'],
  pft: ['threads=2', 'seconds=2ms', 'size=8M'],
  'shmem-dirty': ['size=8M'],
  'split-merge': ['threads=2', 'rounds=4'],
};

describe('the shipped workloads pass under --check', () => {
  test('every shipped workload has its small size here', () => {
    expect(Object.keys(SMALL).sort()).toEqual(shippedWorkloadNames().sort());
  });

  for (const name of Object.keys(SMALL)) {
    test(name, () => {
      // As `stat --check` runs it: scans at the default interval, and the exact one at the end.
      for (const config of name === 'kamezawa-race' ? ['base', 'kamezawa-fixed'] : ['base']) {
        let k!: Kernel;
        const p = prepareRun(name, SMALL[name], { cpus: '2', check: true, config: [config] });
        runWorkload({ ...runOptionsOf(p), testHook: (kk) => (k = kk) });
        expect(k.dbg!.scans).toBeGreaterThan(0);
      }
    });
  }

  test('and under each page-fault design (ebizzy, multi-fault)', () => {
    for (const config of ['dufour-v9', 'dufour-v11', 'dufour-srcu', 'lespinasse', 'per-vma-lock', 'kamezawa-fixed']) {
      for (const name of ['ebizzy', 'multi-fault']) {
        const p = prepareRun(name, SMALL[name], { cpus: '2', check: true, config: [config] });
        expect(() => runWorkload({ ...runOptionsOf(p), checkInvariants: { scanEvery: 2000 } }), `${name} under ${config}`).not.toThrow();
      }
    }
  });
});
