import { SYNC, type Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { MmStruct, Thread } from './kernel.js';

/**
 * flush_tlb_mm_range() (arch/x86/mm/tlb.c): invalidate `pages` pages of the current mm on this
 * CPU and on every other CPU that may cache it. With no other CPU in the mm's mask it flushes
 * locally; otherwise flush_tlb_multi() does the whole mask. Natively (x86) that sends IPIs to the
 * CPUs that run the mm, flushes locally too, and waits for them; a paravirtual guest whose
 * pv_ops.mmu.flush_tlb_multi is a hypercall (Machine.remoteTlbFlush 'hypercall', e.g. PVM) asks
 * the hypervisor to flush the mask, itself included, and no handler runs on the targets.
 * arm64 and powerpc radix broadcast in hardware. Ranges above the flush ceiling become a full
 * flush. `freedTables`: the flush also covers page tables free_pgd_range() unhooked (the
 * mmu_gather's freed_tables), which native_flush_tlb_multi() sends to lazy CPUs too.
 */
export function* flushTlbRange(th: Thread, pages: number, mm: MmStruct = th.mm, freedTables = false): Code {
  const t = th.t;
  const k = th.k;
  const c = k.costs;
  const eng = k.eng;
  if (k.opts.remoteTlbFlush === 'hypercall' && k.arch.tlb === 'ipi') {
    yield* pvFlushTlbMulti(th, pages, mm);
    tlbFlushed(mm);
    return;
  }
  localFlush(th, pages);
  if (t.mustSync()) yield SYNC;
  if (k.arch.tlb === 'broadcast') {
    // One broadcast invalidation and its completion barrier; where the fabric handles one at a
    // time, concurrent flushes from other CPUs queue on it.
    if (k.arch.tlbBroadcastSerialised) k.tlbBroadcastLine.writeBy(t);
    t.stall(c.tlbBroadcastNs); // waiting for the other PEs, not using this one
    tlbFlushed(mm);
    return;
  }
  // IPI every other CPU currently running a thread of this mm; before 4.20 also the idle CPUs
  // still in lazy TLB mode on it (their last task was of this mm), which must first leave idle
  // (a halted vCPU: the host wakes its thread) before they can run the handler and acknowledge.
  // From 4.20 native_flush_tlb_multi() skips those (should_flush_tlb()) unless page tables were
  // freed: then on_each_cpu_mask() goes to the whole mm_cpumask, lazy CPUs included, lest a
  // speculative walk on one of them read a freed table.
  let targets = 0;
  let idle = false;
  let inMask = false;
  /** The CPUs the IPI goes to while they run a task of the mm (one may halt before it lands), or null. */
  let running: number[] | null = null;
  const lazy = k.opts.lazyTlb === 'ipi' || freedTables;
  for (let cpu = 0; cpu < eng.ncpus; cpu++) {
    if (cpu === t.cpu) continue;
    // should_flush_tlb(): a CPU whose woken task has not started yet is idle and lazy still.
    const other = eng.runningAt(cpu, t.clock);
    if (other === null) {
      const last = eng.lastOnCpu[cpu];
      if (last === null || (last.ctx as Thread | null)?.mm !== mm) continue;
      inMask = true; // still in mm_cpumask(): it idles with the mm loaded
      if (!lazy) continue;
      idle = true;
      targets++;
      k.em.count(EV.NR_TLB_REMOTE_FLUSH_RECEIVED, last.ctx as Thread);
      continue;
    }
    if ((other.ctx as Thread | null)?.mm !== mm) continue;
    inMask = true;
    targets++;
    (running ??= []).push(cpu);
    eng.irqDebt[cpu] += c.ipiHandlerNs;
    k.em.count(EV.NR_TLB_REMOTE_FLUSH_RECEIVED, other.ctx as Thread);
  }
  // native_flush_tlb_multi() counts NR_TLB_REMOTE_FLUSH whenever another CPU is in the mask,
  // before should_flush_tlb() leaves out the lazy ones (so it may send no IPI at all).
  if (inMask) k.em.count(EV.NR_TLB_REMOTE_FLUSH, th);
  if (targets === 0) {
    tlbFlushed(mm);
    return;
  }
  // smp_call_function_many_cond() waits in csd_lock_wait() for the slowest target: an idle one
  // adds its wake-up. A target that ran a task when should_flush_tlb() looked may have switched
  // to idle by the time the IPI lands (its task slept: a vCPU halts): it is woken first, and only
  // then runs the handler that releases the csd lock.
  let wait = idle ? c.wakeupNs : 0;
  if (running !== null) {
    const deliver = (c.ipiRoundTripNs - c.ipiHandlerNs) * k.est.IPI_DELIVERY_SHARE;
    t.stall(deliver);
    if (t.mustSync()) yield SYNC;
    for (const cpu of running) {
      if (eng.runningAt(cpu, t.clock) !== null) continue;
      const woken = eng.cpus[cpu];
      // Idle: a wake-up of its own; a woken task not started yet: the CPU is up when it starts.
      wait = Math.max(wait, woken === null ? c.wakeupNs : woken.onCpuAt - t.clock);
    }
    t.stall(c.ipiRoundTripNs - deliver + wait);
  } else t.stall(c.ipiRoundTripNs + wait);
  tlbFlushed(mm);
}

function localFlush(th: Thread, pages: number): void {
  const c = th.k.costs;
  if (pages <= c.tlbFlushCeiling) {
    th.t.cost(pages * c.tlbFlushOneNs);
    th.k.em.count(EV.NR_TLB_LOCAL_FLUSH_ONE, th, pages);
  } else {
    th.t.cost(c.tlbFlushAllNs);
    th.k.em.count(EV.NR_TLB_LOCAL_FLUSH_ALL, th);
  }
}

/**
 * A paravirtual guest's flush: with another CPU running the mm, flush_tlb_multi() is one
 * hypercall for the whole mask, the local flush in it; the targets run no handler of the guest
 * (no interrupt reaches them: /proc/interrupts counts neither TLB shootdowns nor function calls)
 * but each loses pvTlbFlushTargetNs while the hypervisor flushes it (a vCPU that is not running
 * is flushed when it next enters: a lazy-TLB idle CPU is neither named nor woken); with none,
 * the local flush (itself a hypercall on PVM, its cost in tlbFlushOneNs).
 */
function* pvFlushTlbMulti(th: Thread, pages: number, mm: MmStruct): Code {
  const t = th.t;
  const k = th.k;
  const eng = k.eng;
  if (t.mustSync()) yield SYNC;
  let targets = 0;
  for (let cpu = 0; cpu < eng.ncpus; cpu++) {
    const other = eng.runningAt(cpu, t.clock);
    if (cpu === t.cpu || other === null || (other.ctx as Thread | null)?.mm !== mm) continue;
    targets++;
    // The hypervisor stops the target vCPU to flush it: time it owes, as for an interrupt.
    eng.irqDebt[cpu] += k.costs.pvTlbFlushTargetNs;
    k.em.count(EV.NR_TLB_REMOTE_FLUSH_RECEIVED, other.ctx as Thread);
  }
  if (targets === 0) {
    localFlush(th, pages);
    return;
  }
  k.em.count(EV.NR_TLB_REMOTE_FLUSH, th);
  t.cost(k.costs.pvTlbFlushNs);
}

/*
 * TLB contents, for runs that keep page contents (`write`/`expect`): which data a write reaches
 * depends on them. A CPU that wrote a page through a writable translation keeps it cached until
 * the mm is flushed, so a PTE made read-only without a flush yet (fork's copy_present_pte()
 * write-protects each PTE and dup_mmap() flushes the parent once at the end; mprotect()'s
 * change_protection() flushes after the whole range) still takes writes from that CPU, with no
 * fault, into the page the PTE maps. Kept per mm and CPU (x86's PCIDs and arm64's ASIDs keep an
 * mm's entries across switches; a flush invalidates them all), without a capacity: a TLB that
 * evicts could only drop entries, so the model allows no write a real TLB would not.
 */

/**
 * The flush of `mm` has completed on every CPU it targeted (the initiator waited for them): from
 * here no CPU writes through a translation of it cached before. Until then a target that has not
 * handled it yet still can.
 */
function tlbFlushed(mm: MmStruct): void {
  if (mm.tlbWritable.size !== 0) mm.tlbWritable.clear();
}

/** A write at `addr` through a writable PTE to page `pfn`: this CPU now caches the translation. */
export function tlbNoteWrite(th: Thread, addr: number, pfn: number): void {
  const mm = th.mm;
  let m = mm.tlbWritable.get(th.t.cpu);
  if (m === undefined) {
    m = new Map();
    mm.tlbWritable.set(th.t.cpu, m);
  }
  m.set(addr - (addr % th.k.pageSize), pfn);
}

/**
 * May a write at `addr`, whose PTE maps `pfn` read-only, go through without a fault? Yes if this
 * CPU cached a writable translation of that very page and the mm has not been flushed since.
 */
export function tlbStaleWrite(th: Thread, addr: number, pfn: number): boolean {
  return th.mm.tlbWritable.get(th.t.cpu)?.get(addr - (addr % th.k.pageSize)) === pfn;
}
