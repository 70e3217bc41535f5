import { describe, expect, it } from 'vitest';
import { callerOf, framesOf, KERNEL_CALLER, kernelName, lockName, LockContentionSink, type ContentionResult } from '../../src/trace/lock-contention.js';
import { DESIGNS } from '../../src/mm/spf/index.js';
import { LCB_F_READ, LCB_F_SPIN, LCB_F_WRITE } from '../../src/engine/lockstat.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { FaultLog } from '../helpers/fault-log.js';

/** A V8 stack in text, as `new Error().stack` gives it (the dist paths of a built CLI). */
const stack = (...frames: string[]): string => ['Error', ...frames.map((f) => `    at ${f}`)].join('\n');
const D = 'file:///x/spfperf/dist';
/** The designs' own names of their functions (DesignDescriptor.lockCallers), as the command passes them. */
const CALLERS = new Map(DESIGNS.flatMap((d) => Object.entries(d.lockCallers ?? {})));
const NAMES = new Map([...KERNEL_CALLER, ...CALLERS]);

describe('the caller of a wait: the first model function past the lock functions', () => {
  it('skips the engine, its generators\' resume frames and this observer', () => {
    const s = stack(
      `LockContentionSink.begin (${D}/trace/lock-contention.js:150:20)`,
      `RwSemaphore.downReadSlowpath (${D}/engine/rwsem.js:233:30)`,
      'downReadSlowpath.next (<anonymous>)',
      `RwSemaphore.downRead (${D}/engine/rwsem.js:71:21)`,
      'downRead.next (<anonymous>)',
      `doUserAddrFault (${D}/mm/access.js:84:36)`,
      `Runner.threadMain (${D}/sim/interp.js:182:56)`,
    );
    expect(callerOf(framesOf(s))).toBe('do_user_addr_fault');
  });

  it('skips the wrappers the kernel inlines, and names the kernel function where the model\'s is named otherwise', () => {
    const mmap = stack(`RwSemaphore.downWrite (${D}/engine/rwsem.js:119:21)`, 'downWrite.next (<anonymous>)', `mmapWriteLock (${D}/mm/mmap.js:35:27)`, 'mmapWriteLock.next (<anonymous>)', `sysMmap (${D}/mm/mmap.js:86:12)`);
    expect(callerOf(framesOf(mmap))).toBe('vm_mmap_pgoff');
    const munmap = stack(`RwSemaphore.downWrite (${D}/engine/rwsem.js:119:21)`, `mmapWriteLock (${D}/mm/mmap.js:35:27)`, `sysMunmap (${D}/mm/mmap.js:160:12)`);
    expect(callerOf(framesOf(munmap))).toBe('__vm_munmap');
    const getVma = stack(`RwLock.acquire (${D}/engine/locks.js:90:9)`, `DufourStrategy.faultWithoutMmapLock (${D}/mm/spf/dufour.js:99:9)`);
    expect(callerOf(framesOf(getVma), NAMES)).toBe('get_vma');
    expect(callerOf(framesOf(getVma))).toBe('fault_without_mmap_lock'); // without the design's names
    const link = stack(`RwLock.acquire (${D}/engine/locks.js:90:9)`, `DufourStrategy.treeModify (${D}/mm/spf/dufour.js:217:9)`, `vmaLink (${D}/mm/mmap.js:60:3)`);
    expect(callerOf(framesOf(link), NAMES)).toBe('__vma_link_rb');
    // pte_offset_map_lock() is a macro: the classic path's lock is the handler's; a design's pte_map_lock() is its own.
    expect(callerOf(framesOf(stack(`SpinLock.lock (${D}/engine/locks.js:168:30)`, `pteMapLock (${D}/mm/vmf.js:45:9)`, `doAnonymousPage (${D}/mm/fault.js:244:27)`)))).toBe('do_anonymous_page');
    // A method of the model named as the kernel function: snake_case of the method.
    expect(callerOf(framesOf(stack(`SpinLock.lock (${D}/engine/locks.js:168:30)`, `DufourCommit.pteMapLock (${D}/mm/spf/dufour.js:262:9)`)))).toBe('pte_map_lock');
  });

  it('finds the engine by its class names too (a bundle without the file names), and says Unknown past the end', () => {
    expect(callerOf(framesOf(stack('SpinLock.lock (/b/spfperf.js:1:2)', 'doAnonymousPage (/b/spfperf.js:3:4)')))).toBe('do_anonymous_page');
    expect(callerOf(framesOf(stack('spinlockDownRead (/b/spfperf.js:1:2)', 'RwSemaphore.downRead (/b/spfperf.js:1:2)', 'doUserAddrFault (/b/spfperf.js:3:4)')))).toBe('do_user_addr_fault');
    expect(callerOf(framesOf(stack(`RwSemaphore.downRead (${D}/engine/rwsem.js:1:2)`, 'downRead.next (<anonymous>)')))).toBe('Unknown');
  });

  it('names as the kernel does', () => {
    expect(kernelName('doUserAddrFault')).toBe('do_user_addr_fault');
    expect(kernelName('handleMmFault')).toBe('handle_mm_fault');
    expect(kernelName('vmaStartWrite')).toBe('vma_start_write');
    expect(lockName('mmap_lock(1000)')).toBe('mmap_lock');
    expect(lockName('mmap_lock(1000).wait_lock')).toBe('mmap_lock.wait_lock');
    expect(lockName('zone->lock(node1)')).toBe('zone->lock(node1)');
  });
});

function ebizzy(config: string, sink: LockContentionSink | null): { r: RunResult; faults: number[] } {
  const prep = prepareRun('ebizzy', ['threads=4', 'seconds=0.002'], { cpus: '4', config: config.split(' ') });
  const log = new FaultLog();
  const r = runWorkload({ ...runOptionsOf(prep), sinks: [log], ...(sink !== null ? { contention: sink } : {}) });
  return { r, faults: log.faults };
}

describe('LockContentionSink on a run of the model', () => {
  for (const config of ['base', 'dufour-v11', 'per-vma-lock', 'per-vma-lock kernel=6.18']) {
    it(`${config}: counting the waits changes neither the counts nor the schedule`, () => {
      const sink = new LockContentionSink();
      const on = ebizzy(config, sink);
      const off = ebizzy(config, null);
      expect(on.faults.length).toBeGreaterThan(0);
      expect(on.faults).toEqual(off.faults);
      expect(JSON.stringify(on.r)).toBe(JSON.stringify(off.r));
      // And there was something to count: the mmap lock's read side waited at the fault entry.
      const res = sink.result();
      expect(res.byCaller.find((c) => c.name === 'do_user_addr_fault' && c.flags === LCB_F_READ)?.contended).toBeGreaterThan(0);
    });
  }

  it('sums each wait once in each view, and the lines\' transfers by name', () => {
    const sink = new LockContentionSink({ callers: CALLERS });
    ebizzy('dufour-v11', sink);
    const res: ContentionResult = sink.result();
    const total = (rows: ContentionResult['byCaller']): [number, number] => [rows.reduce((a, r) => a + r.contended, 0), rows.reduce((a, r) => a + r.totalNs, 0)];
    const [n, ns] = total(res.byCaller);
    expect(total(res.byLock)[0]).toBe(n);
    expect(total(res.byTask)[0]).toBe(n);
    expect(total(res.byLock)[1]).toBeCloseTo(ns, 3);
    expect(total(res.byTask)[1]).toBeCloseTo(ns, 3);
    for (const r of res.byCaller) {
      expect(r.maxNs).toBeLessThanOrEqual(r.totalNs);
      expect(r.minNs).toBeLessThanOrEqual(r.maxNs);
    }
    // Dufour v11's own locks: the mm_rb rwlock (readers in get_vma, writers linking VMAs) and
    // the PTE lock its speculative commit spins on by trylocks.
    const kinds = new Set(res.byCaller.map((r) => `${r.name}/${r.flags}`));
    expect(kinds).toContain(`get_vma/${LCB_F_SPIN | LCB_F_READ}`);
    expect(kinds).toContain(`__vm_munmap/${LCB_F_WRITE}`);
    expect(res.byLock.map((l) => l.name)).toContain('mmap_lock');
    expect(res.byLock.every((l) => /^ffff8881[0-9a-f]{8}$/.test(l.addr!))).toBe(true);
    expect(new Set(res.byLock.map((l) => l.addr)).size).toBe(res.byLock.length);
    expect(res.lines.map((l) => l.name)).toContain('mm_rb_lock(1000)');
  });

  it('per-VMA locks: the VMA writer\'s wait for the faults in the VMA, the rwsem\'s (6.4-6.14) and the refcount\'s (6.15+), at vma_start_write', () => {
    for (const config of ['per-vma-lock', 'per-vma-lock kernel=6.18']) {
      const sink = new LockContentionSink({ callers: CALLERS });
      ebizzy(config, sink);
      const res = sink.result();
      expect(res.byCaller.find((c) => c.name === 'vma_start_write')?.flags, config).toBe(LCB_F_WRITE);
      expect(res.byLock.map((l) => l.name), config).toContain(config.includes('6.18') ? 'vma->vm_refcnt' : 'vma->vm_lock');
    }
  });

  it('no lines table when not asked for', () => {
    const sink = new LockContentionSink({ lines: false });
    ebizzy('base', sink);
    expect(sink.lines).toBeNull();
    expect(sink.result().lines).toEqual([]);
  });
});
