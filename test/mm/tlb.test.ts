/**
 * flush_tlb_mm_range() (src/mm/tlb.ts) and kconfig `lazy_tlb`: on x86 before 4.20 (`ipi`) a
 * remote flush also IPIs the idle CPUs still in lazy TLB mode on the mm (the last task they ran
 * was a thread of it) and waits for them to wake; from 4.20 (`skip`, the default) only the CPUs
 * running a thread of the mm are targets, unless the flush covers freed page tables. arm64 and
 * powerpc invalidate by broadcast: the key changes nothing there. The key changes costs and IPI
 * counts only, never the faults.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { getMachine, KVM_X86, type Machine } from '../../src/config/machine.js';
import { EV } from '../../src/events/catalog.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { archOf, faults, mmOptions, proc, total, type MmRunOptions } from './helpers.js';

type LazyTlb = 'ipi' | 'skip';

/**
 * Four pinned threads of one process on four CPUs. Thread 0 maps 1 MiB, writes it and unmaps it,
 * timing the munmap (counter munmap_ns). Thread 1 does `sibling` meanwhile (sleeps, or keeps
 * computing); threads 2 and 3 exit at once. Their CPUs then stay idle with the mm loaded. A page
 * mapped just below the 1 MiB (never touched) keeps its PTE table in use, so the munmap frees no
 * page table; `freeTables` leaves it out, and the munmap then frees the table.
 */
const munmapWhile = (sibling: string, freeTables = false): string => proc(
  'threads 4 pin {',
  '  if $tid == 0 {',
  '    a = mmap 1M',
  ...(freeTables ? [] : ['    g = mmap 4K']),
  '    touch a write',
  '    let t0 = now',
  '    munmap a',
  '    count munmap_ns (now - t0) * 1000000000',
  '  } else if $tid == 1 {',
  `    ${sibling}`,
  '  }',
  '}',
);

/** The sibling thread 1 is asleep (nanosleep) all through thread 0's munmap. */
const SIBLING_ASLEEP = munmapWhile('sleep 1ms');
/** As SIBLING_ASLEEP, but the munmap frees the PTE table it emptied (free_pgd_range()). */
const SIBLING_ASLEEP_TABLE_FREED = munmapWhile('sleep 1ms', true);
/** The sibling thread 1 keeps running on its CPU through thread 0's munmap. */
const SIBLING_RUNNING = munmapWhile('compute 1ms');

/**
 * Another process's threads 1-3 wake on CPUs 1-3 after 20 us (long before the first process's
 * munmap, which comes after 256 faults) and exit there: the last task of those CPUs is then of
 * another mm.
 */
const OTHER_MM_LAST = 'process other {\n  threads 4 pin {\n    if $tid > 0 {\n      sleep 20us\n    }\n  }\n}\n';

function run(source: string, lazyTlb: LazyTlb, o: MmRunOptions = {}): RunResult {
  const r = runWorkload({ ...mmOptions(source, { ncpus: 4, ...o }), lazyTlb });
  expect(r.signals).toEqual([]);
  return r;
}

/** How long thread 0's munmap took (simulated ns). */
const munmapNs = (r: RunResult): number => r.counters.get('munmap_ns')!;

/** What lazy_tlb must never change. */
function sameFaults(a: RunResult, b: RunResult): void {
  expect(faults(a)).toEqual(faults(b));
  expect(total(a, EV.PAGE_FAULTS)).toBe(256);
  expect(total(b, EV.PAGE_FAULTS)).toBe(256);
  expect(total(a, EV.MINOR_FAULTS)).toBe(total(b, EV.MINOR_FAULTS));
  expect(total(a, EV.PGFAULT)).toBe(total(b, EV.PGFAULT));
}

describe('lazy_tlb on x86: a munmap while sibling threads are idle', () => {
  test('ipi: the idle CPUs whose last task was a thread of the mm get the flush IPI; skip: none', () => {
    const ipi = run(SIBLING_ASLEEP, 'ipi', { profile: 'x86' });
    const skip = run(SIBLING_ASLEEP, 'skip', { profile: 'x86' });
    sameFaults(ipi, skip);
    // Nobody else runs the mm: with skip no IPI goes, though native_flush_tlb_multi() is called
    // and counts NR_TLB_REMOTE_FLUSH (the idle CPUs are still in mm_cpumask()).
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    // With ipi: one remote flush, received by CPU 1 (sleeping sibling) and CPUs 2, 3 (exited).
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3);
    // The local part of the flush is the same.
    expect(total(ipi, EV.NR_TLB_LOCAL_FLUSH_ALL)).toBe(total(skip, EV.NR_TLB_LOCAL_FLUSH_ALL));
    expect(total(ipi, EV.NR_TLB_LOCAL_FLUSH_ONE)).toBe(total(skip, EV.NR_TLB_LOCAL_FLUSH_ONE));
  });

  test('skip: a munmap that frees a page table IPIs the lazy CPUs too (freed_tables), and waits for their wake-up', () => {
    // native_flush_tlb_multi() (arch/x86/mm/tlb.c, 4.20+): with info->freed_tables it calls
    // on_each_cpu_mask() on the whole mm_cpumask(), not on_each_cpu_cond_mask(should_flush_tlb).
    const c = getArch('x86').costs;
    const kept = run(SIBLING_ASLEEP, 'skip', { profile: 'x86' });
    const freed = run(SIBLING_ASLEEP_TABLE_FREED, 'skip', { profile: 'x86' });
    expect(total(kept, EV.PAGE_FAULTS)).toBe(256);
    expect(total(freed, EV.PAGE_FAULTS)).toBe(256);
    expect(freed.counts.total(EV.PGFREE) - kept.counts.total(EV.PGFREE)).toBeGreaterThanOrEqual(1); // the PTE table
    expect(total(kept, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(total(freed, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(freed, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3); // the sleeping sibling's CPU and the two exited ones
    // The wait for them (a round trip and a wake-up), less what the extra VMA costs the other run.
    expect(munmapNs(freed) - munmapNs(kept)).toBeGreaterThan(0.95 * (c.ipiRoundTripNs + c.wakeupNs));
    // Before 4.20 (ipi) the idle CPUs are targets whether or not a table is freed.
    expect(total(run(SIBLING_ASLEEP_TABLE_FREED, 'ipi', { profile: 'x86' }), EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3);
  });

  test('ipi: the munmap waits one IPI round trip plus one wake-up (the slowest target), however many idle CPUs', () => {
    const c = getArch('x86').costs;
    expect(c.wakeupNs).toBeGreaterThan(0);
    const ipi = run(SIBLING_ASLEEP, 'ipi', { profile: 'x86' });
    const skip = run(SIBLING_ASLEEP, 'skip', { profile: 'x86' });
    expect(munmapNs(ipi) - munmapNs(skip)).toBeCloseTo(c.ipiRoundTripNs + c.wakeupNs, 3);
    expect(ipi.sysNs).toBeGreaterThan(skip.sysNs);
  });

  test('on a KVM guest (x86-vm16) the wake-up of a halted vCPU is dearer still', () => {
    const c = archOf(getMachine('x86-vm16')).costs;
    const ipi = run(SIBLING_ASLEEP, 'ipi', { machine: 'x86-vm16' });
    const skip = run(SIBLING_ASLEEP, 'skip', { machine: 'x86-vm16' });
    sameFaults(ipi, skip);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED) - total(skip, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3);
    expect(munmapNs(ipi) - munmapNs(skip)).toBeCloseTo(c.ipiRoundTripNs + c.wakeupNs, 3);
  });

  test('a running sibling is a target either way; ipi adds the idle ones and only the wake-up to the wait', () => {
    const c = getArch('x86').costs;
    const ipi = run(SIBLING_RUNNING, 'ipi', { profile: 'x86' });
    const skip = run(SIBLING_RUNNING, 'skip', { profile: 'x86' });
    sameFaults(ipi, skip);
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(1); // CPU 1
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3); // CPU 1, and idle CPUs 2 and 3
    // Both wait a round trip; the idle targets add their wake-up, not another round trip.
    expect(munmapNs(ipi) - munmapNs(skip)).toBeCloseTo(c.wakeupNs, 3);
  });

  test('a sibling woken but not running yet (its wake-up latency) is idle still: skip leaves it out, ipi wakes it as idle', () => {
    // should_flush_tlb() (arch/x86/mm/tlb.c): a CPU that has not switched to the woken task is
    // lazy on the mm until it does. The sibling sleeps 1 us and is woken with a wake-up latency
    // far longer than thread 0's 256 faults: all through the munmap its CPU is waking, not running.
    const slow = (lazyTlb: LazyTlb, wakeupNs: number): RunResult => {
      const o = mmOptions(munmapWhile('sleep 1us\n    compute 1ms'), { ncpus: 4, profile: 'x86' });
      const r = runWorkload({ ...o, arch: { ...o.arch, costs: { ...o.arch.costs, wakeupNs } }, lazyTlb });
      expect(r.signals).toEqual([]);
      return r;
    };
    const c = getArch('x86').costs;
    // With the x86 wake-up it runs by then: a target, as SIBLING_RUNNING's.
    expect(total(slow('skip', c.wakeupNs), EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(1);
    const skip = slow('skip', 5_000_000);
    // Counted (CPUs 1-3 are in mm_cpumask()), though no IPI goes.
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    const ipi = slow('ipi', 5_000_000);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3); // CPU 1 as an idle lazy CPU, and 2 and 3
    sameFaults(ipi, skip);
  });

  test('a target that sleeps before the IPI lands: the sender waits for its wake-up too (csd_lock_wait)', () => {
    // should_flush_tlb() saw the sibling running; it then went to sleep and its CPU switched to
    // idle (a vCPU halts) before the IPI landed, so the handler that releases the csd lock runs
    // only once that CPU is woken. A 200 us round trip puts the landing 100 us after the send.
    const c = getArch('x86').costs;
    const RTT = 200_000;
    const at = (sibling: string): RunResult => {
      const o = mmOptions(munmapWhile(sibling).replace('    munmap a', '    count munmap_at now * 1000000000\n    munmap a'), { ncpus: 4, profile: 'x86' });
      const r = runWorkload({ ...o, arch: { ...o.arch, costs: { ...o.arch.costs, ipiRoundTripNs: RTT } }, lazyTlb: 'skip' });
      expect(r.signals).toEqual([]);
      return r;
    };
    const running = at('compute 5ms');
    const send = running.counters.get('munmap_at')!;
    // The sibling computes until 30 us after the munmap starts (before the send: the munmap's
    // own steps take well under that), then sleeps: it switches out long before the landing.
    const halts = at(`compute ${Math.round((send + 30_000) / 1000)}us\n    sleep 5ms`);
    // Or it sleeps after the landing: the handler ran while it still computed.
    const late = at(`compute ${Math.round((send + 150_000) / 1000)}us\n    sleep 5ms`);
    for (const r of [halts, late]) {
      expect(r.counters.get('munmap_at')).toBe(send);
      expect(total(r, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(1);
    }
    expect(munmapNs(late)).toBeCloseTo(munmapNs(running), 3);
    expect(munmapNs(halts) - munmapNs(running)).toBeCloseTo(c.wakeupNs, 3);
  });

  test('ipi: an idle CPU whose last task was of another mm is not a target', () => {
    const alone = run(SIBLING_ASLEEP, 'ipi', { profile: 'x86' });
    const ipi = run(SIBLING_ASLEEP + OTHER_MM_LAST, 'ipi', { profile: 'x86' });
    const skip = run(SIBLING_ASLEEP + OTHER_MM_LAST, 'skip', { profile: 'x86' });
    expect(total(alone, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3);
    // CPUs 1-3 last ran the other process's threads: nothing to flush there.
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH)).toBe(0);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(munmapNs(ipi)).toBeCloseTo(munmapNs(skip), 3);
    expect(faults(ipi)).toEqual(faults(skip));
  });
});

/**
 * A paravirtual guest whose flush_tlb_multi is a hypercall (Machine.remoteTlbFlush 'hypercall',
 * as a PVM guest's PVM_HC_FLUSH_TLB_MULTI): x86-vm16 with that flush and a 20 us hypercall.
 */
const PV_GUEST: Machine = {
  ...getMachine('x86-vm16'),
  name: 'pv-test',
  remoteTlbFlush: 'hypercall',
  costs: { ...KVM_X86, pvTlbFlushNs: 20_000 },
};

function runOn(machine: Machine, source: string, lazyTlb: LazyTlb): RunResult {
  const r = runWorkload({ ...mmOptions(source, { ncpus: 4 }), machine, arch: archOf(machine), lazyTlb });
  expect(r.signals).toEqual([]);
  return r;
}

describe('a paravirtual remote flush (remoteTlbFlush: hypercall)', () => {
  const pv = archOf(PV_GUEST).costs;
  const KVM_GUEST: Machine = getMachine('x86-vm16');

  test('with a sibling running the mm: one hypercall instead of the local flush and the IPI, and no handler on the target', () => {
    const running = runOn(PV_GUEST, SIBLING_RUNNING, 'skip');
    const alone = runOn(PV_GUEST, SIBLING_ASLEEP, 'skip');
    sameFaults(running, alone);
    expect(total(running, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(running, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(1);
    // The 256 pages of the munmap are above the ceiling: alone, a full local flush; with the
    // sibling running, the hypercall does it all (no local flush of its own).
    expect(total(alone, EV.NR_TLB_LOCAL_FLUSH_ALL)).toBe(1);
    expect(total(running, EV.NR_TLB_LOCAL_FLUSH_ALL)).toBe(0);
    expect(munmapNs(running) - munmapNs(alone)).toBeCloseTo(pv.pvTlbFlushNs - pv.tlbFlushAllNs, 3);
    // The sender's CPU pays the hypercall (system time); the sibling's CPU pays no handler, so
    // the system time grows by exactly that difference, less the asleep sibling's switch to idle.
    expect(running.sysNs - alone.sysNs).toBeCloseTo(pv.pvTlbFlushNs - pv.tlbFlushAllNs - pv.contextSwitchNs, 3);
  });

  test('the targets lose what the hypervisor takes to flush them (pvTlbFlushTargetNs), as interrupt time', () => {
    const m: Machine = { ...PV_GUEST, costs: { ...PV_GUEST.costs, pvTlbFlushTargetNs: 7_000 } };
    const running = runOn(m, SIBLING_RUNNING, 'skip');
    const base = runOn(PV_GUEST, SIBLING_RUNNING, 'skip');
    sameFaults(running, base);
    // The sender's munmap is as long; the sibling's CPU time grows by the target's loss.
    expect(munmapNs(running)).toBe(munmapNs(base));
    expect(running.sysNs + running.userNs - base.sysNs - base.userNs).toBeCloseTo(7_000, 3);
  });

  test('the same machine with IPIs (x86-vm16): a local flush, and the sender waits an IPI round trip', () => {
    const c = archOf(KVM_GUEST).costs;
    const running = runOn(KVM_GUEST, SIBLING_RUNNING, 'skip');
    const alone = runOn(KVM_GUEST, SIBLING_ASLEEP, 'skip');
    expect(total(running, EV.NR_TLB_LOCAL_FLUSH_ALL)).toBe(1);
    expect(total(running, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(munmapNs(running) - munmapNs(alone)).toBeCloseTo(c.ipiRoundTripNs, 3);
  });

  test('lazy_tlb=ipi: idle vCPUs are neither named nor woken (the hypervisor flushes a vCPU when it next enters it)', () => {
    const ipi = runOn(PV_GUEST, SIBLING_ASLEEP, 'ipi');
    const skip = runOn(PV_GUEST, SIBLING_ASLEEP, 'skip');
    sameFaults(ipi, skip);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH)).toBe(0);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(munmapNs(ipi)).toBe(munmapNs(skip));
  });

  test('a broadcast arch ignores it: arm64-vm with remoteTlbFlush set runs as without', () => {
    const arm = getMachine('arm64-vm');
    const a = runOn({ ...arm, remoteTlbFlush: 'hypercall' }, SIBLING_RUNNING, 'skip');
    const b = runOn(arm, SIBLING_RUNNING, 'skip');
    expect(munmapNs(a)).toBe(munmapNs(b));
    expect(a.sysNs).toBe(b.sysNs);
  });
});

describe('lazy_tlb on arm64 and powerpc: broadcast invalidation, the key changes nothing', () => {
  test.each([
    ['arm64-vm', { machine: 'arm64-vm' }],
    ['arm64', { profile: 'arm64' }],
    ['powerpc-radix', { profile: 'powerpc-radix' }],
  ] as const)('%s: no IPI, the same munmap time and counts with ipi and skip', (_name, o) => {
    // Smaller pages on powerpc: the 1 MiB mapping is 16 pages of 64 KiB there.
    const ipi = runWorkload({ ...mmOptions(SIBLING_ASLEEP, { ncpus: 4, ...o }), lazyTlb: 'ipi' });
    const skip = runWorkload({ ...mmOptions(SIBLING_ASLEEP, { ncpus: 4, ...o }), lazyTlb: 'skip' });
    for (const r of [ipi, skip]) {
      expect(r.signals).toEqual([]);
      expect(total(r, EV.NR_TLB_REMOTE_FLUSH)).toBe(0);
      expect(total(r, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    }
    expect(faults(ipi)).toEqual(faults(skip));
    expect(total(ipi, EV.PAGE_FAULTS)).toBe(total(skip, EV.PAGE_FAULTS));
    expect(munmapNs(ipi)).toBe(munmapNs(skip));
    expect(ipi.sysNs).toBe(skip.sysNs);
    expect(ipi.elapsedNs).toBe(skip.elapsedNs);
  });
});

describe('lazy_tlb through --config, as `spfperf stat` runs a script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-tlb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'lazy-tlb.spf');
  writeFileSync(path, '# munmap while a sibling thread sleeps\n' + SIBLING_ASLEEP);

  const stat = (config: readonly string[], machine?: string): RunResult => {
    const p = prepareRun(path, [], { cpus: '4', config, machine });
    return runWorkload(runOptionsOf(p));
  };

  test('default skip; lazy_tlb=ipi on the default machine (x86-vm16) IPIs the idle CPUs', () => {
    const p = prepareRun(path, [], { cpus: '4' });
    expect(p.config.lazyTlb).toBe('skip');
    expect(runOptionsOf(p).lazyTlb).toBe('skip');
    expect(runOptionsOf(prepareRun(path, [], { cpus: '4', config: ['lazy_tlb=ipi'] })).lazyTlb).toBe('ipi');
    const def = stat([]);
    const skip = stat(['dufour-v11', 'lazy_tlb=skip']);
    const ipi = stat(['dufour-v11', 'lazy_tlb=ipi']);
    expect(total(def, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(total(skip, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3);
    expect(faults(ipi)).toEqual(faults(skip));
    const c = archOf(getMachine('x86-vm16')).costs;
    expect(munmapNs(ipi) - munmapNs(skip)).toBeCloseTo(c.ipiRoundTripNs + c.wakeupNs, 3);
  });

  test('--machine arm64-vm: lazy_tlb=ipi is the same run as skip', () => {
    const ipi = stat(['lazy_tlb=ipi'], 'arm64-vm');
    const skip = stat(['lazy_tlb=skip'], 'arm64-vm');
    expect(total(ipi, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(munmapNs(ipi)).toBe(munmapNs(skip));
    expect(faults(ipi)).toEqual(faults(skip));
  });
});
