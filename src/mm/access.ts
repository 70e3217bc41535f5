import { STEP_CALL, STEP_SYNC, StepFrame, SYNC, calleeOf, type Code, type Task } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import { FAULT_MAJOR, FAULT_RETRIED, FAULT_SIGNAL_SHIFT, FAULT_SPEC, FAULT_VMA_LOCK } from '../trace/sink.js';
import type { Thread } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { accessError, doAnonymousPageCall, findVmaCached, pteTableOf, findVmaLocked, handleMmFaultAnonFast, handleMmFaultWalked, VmfSlot } from './fault.js';
import { anonVmaPrepare } from './rmap.js';
import { tlbNoteWrite, tlbStaleWrite } from './tlb.js';
import type { Vma } from './vma.js';
import {
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_KILLABLE, FAULT_FLAG_TRIED, FAULT_FLAG_USER, FAULT_FLAG_WRITE,
  PTE_DIRTY, PTE_HASHED, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, SIGBUS, SIGKILL, SIGSEGV,
  VM_ACCESS_FLAGS, VM_FAULT_COMPLETED, VM_FAULT_ERROR, VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY,
  VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, VM_GROWSDOWN, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE,
} from './types.js';

/**
 * The user-mode access path: what the MMU does with a user load or store (the TLB-miss walk; on
 * the powerpc hash MMU the hash-table miss, do_hash_fault()), and the page-fault exception when
 * the translation is missing or forbids the access (arch/x86/mm/fault.c do_user_addr_fault():
 * trap -> perf/trace accounting -> [speculative attempt] -> mmap_read_lock -> find_vma ->
 * access_error -> handle_mm_fault (fault.ts) -> unlock -> account).
 */

/**
 * One user access at `addr` if the MMU can make it without a page fault: true if made (the
 * caller then takes the fault with doUserAddrFault() and tries again).
 */
export function userAccess(th: Thread, addr: number, write: boolean): boolean {
  const k = th.k;
  const pt = pteTableOf(th, addr);
  if (pt === null) return false;
  const idx = k.geo.index(k.geo.levels - 1, addr);
  const pte = pt.ptes[idx];
  if ((pte & PTE_PRESENT) === 0) return false;
  if (write && (pte & PTE_WRITE) === 0) {
    // A read-only PTE not yet flushed from this CPU's TLB takes the write (only tracked with
    // page contents: which page a write reaches matters to nothing else).
    if (k.contents === null || !tlbStaleWrite(th, addr, pte >>> PTE_SHIFT)) return false;
    th.t.cost(k.costs.userAccessNs);
    return true;
  }
  if (write && k.contents !== null) tlbNoteWrite(th, addr, pte >>> PTE_SHIFT);
  const t = th.t;
  if (k.arch.mmu === 'hash' && (pte & PTE_HASHED) === 0) {
    // powerpc hash MMU: the first access after the Linux PTE is set misses the hashed
    // page table; do_hash_fault() -> hash_page() inserts it (no mmap lock, not a page fault).
    t.enterKernel();
    t.cost(k.costs.trapEntryNs + k.costs.hashPageNs + k.costs.trapExitNs);
    t.exitKernel();
    pt.ptes[idx] = pt.ptes[idx] | PTE_HASHED;
  }
  if (write) pt.ptes[idx] = pt.ptes[idx] | PTE_DIRTY;
  t.cost(k.costs.userAccessNs);
  return true;
}

/**
 * The classic page-fault path, step by step as in arch/x86/mm/fault.c and mm/memory.c (4.17+):
 * trap -> perf/trace accounting -> [speculative attempt] -> mmap_read_lock -> find_vma ->
 * access_error -> handle_mm_fault -> page-table walk/allocation -> handle_pte_fault ->
 * do_anonymous_page / do_wp_page -> PTE set under the PTE lock -> unlock -> account.
 */

/** Why a user access ended in a signal (for the message the workload's user sees). */
export interface FaultOutcome {
  readonly signal: number;
  readonly detail: string;
}

/**
 * do_user_addr_fault() (x86 __do_page_fault): one hardware exception at `addr`. Returns null when
 * the access can be retried by user space, or the signal it ends in. A step function
 * (DoUserAddrFault below) run by this generator, or called as a frame (doUserAddrFaultFrame).
 */
export function* doUserAddrFault(th: Thread, addr: number, write: boolean, ip: number): Code<FaultOutcome | null> {
  // runFrame()'s loop, here (as doAnonymousPage()): its generator would be one more to resume at every sync.
  const t = th.t;
  const f = new DoUserAddrFault(th, addr, write, ip);
  for (;;) {
    const r = f.step(t);
    if (r >= 0) return f.outcome;
    if (r === STEP_CALL) t.ret = yield* calleeOf(t);
    else yield SYNC;
  }
}

/**
 * do_user_addr_fault() as a frame to call (`yield t.call(f)`): its answer is then in f.outcome.
 * `again`: a frame of the same thread's that has returned, made ready for this fault instead of a
 * new one (the touch loop's: one frame a loop, not one a fault).
 */
export function doUserAddrFaultFrame(th: Thread, addr: number, write: boolean, ip: number, again: DoUserAddrFault | null = null): DoUserAddrFault {
  if (again === null) return new DoUserAddrFault(th, addr, write, ip);
  again.restart(addr, write, ip);
  return again;
}

/** Where DoUserAddrFault.step() goes on. */
const enum At {
  Start,
  Attempted,
  Retry,
  DownRead,
  Locked,
  Found,
  Expanded,
  Anon,
  Handled,
  Finish,
  SignalUnlocked,
}

/** do_user_addr_fault() as a step function (StepFrame): the generator's steps and sync points, in its order. */
export class DoUserAddrFault extends StepFrame {
  /** The signal the fault ends in, or null (the access can be retried). */
  outcome: FaultOutcome | null = null;
  private at = At.Start;
  /** When the exception came: a fault's latency runs from here to the return to user mode. */
  private start = -0;
  private flags = 0;
  private fault = VM_FAULT_RETRY;
  private path = 0;
  private major = 0;
  private vma: Vma | null = null;
  /** The SIGSEGV an access ends in once the mmap lock is released. */
  private detail = '';
  /** do_anonymous_page()'s frame of an earlier fault (returned), for doAnonymousPageCall()'s `again`. */
  private anon: StepFrame | Code<number> | null = null;
  /** The vm_fault of each fault's common anonymous case, filled in again (handleMmFaultAnonFast()'s `into`). */
  private readonly vmf = new VmfSlot();
  /**
   * The faulting address. Starts as -0, a double, before the constructor's value: a field whose
   * first value is a small integer takes no fractional or large number in place later (user
   * addresses are above 2^31), and each store then made a heap number (~16 bytes a fault).
   */
  private addr = -0;

  constructor(
    private readonly th: Thread,
    addr: number,
    private write: boolean,
    private ip: number,
  ) {
    super();
    this.addr = addr;
  }

  /** Every field as the constructor leaves it, for a fault at `addr`. */
  restart(addr: number, write: boolean, ip: number): void {
    this.addr = addr;
    this.write = write;
    this.ip = ip;
    this.outcome = null;
    this.at = At.Start;
    this.start = -0;
    this.flags = 0;
    this.fault = VM_FAULT_RETRY;
    this.path = 0;
    this.major = 0;
    this.vma = null;
    this.detail = '';
  }

  step(t: Task): number {
    const th = this.th;
    const k = th.k;
    const mm = th.mm;
    const addr = this.addr;
    for (;;) {
      switch (this.at) {
        case At.Start: {
          this.start = t.clock;
          t.enterKernel();
          th.kfn = 'do_user_addr_fault';
          // A guest's exits around the exception (guestFaultNs, 0 on bare metal) are paid here,
          // before the handler takes any lock.
          t.cost(k.eng.jitter(k.costs.trapEntryNs + k.costs.guestFaultNs));
          k.eng.absorbIrq(t);
          // perf_sw_event(PERF_COUNT_SW_PAGE_FAULTS) and trace_page_fault_user() at entry.
          k.em.count(EV.PAGE_FAULTS, th);
          if (k.em.sampling(EV.PAGE_FAULT_USER)) {
            const pte = peekPte(th, addr);
            const err = X86_PF_USER | (this.write ? X86_PF_WRITE : 0) | (pte & PTE_PRESENT ? X86_PF_PROT : 0);
            k.em.hit(EV.PAGE_FAULT_USER, th, [addr, this.ip, err]);
          } else {
            k.em.count(EV.PAGE_FAULT_USER, th);
          }
          this.flags = FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | (this.write ? FAULT_FLAG_WRITE : 0);
          const spf = k.spf;
          if (spf.faultWithoutMmapLock !== undefined) {
            // The design's attempt, as a call: a frame where the engine runs calls and the design has one.
            this.at = At.Attempted;
            return t.stepCall(k.eng.calls && spf.faultFrame !== undefined ? spf.faultFrame(th, addr, this.flags) : spf.faultWithoutMmapLock(th, addr, this.flags));
          }
          this.at = At.Retry;
          break;
        }
        case At.Attempted: {
          this.fault = t.ret as number;
          // How it completes, for the sinks that record it (faultDone): without the mmap lock
          // when the design's attempt did not answer VM_FAULT_RETRY.
          if ((this.fault & VM_FAULT_RETRY) === 0) this.path = k.spf.attemptLock === 'vma' ? FAULT_SPEC | FAULT_VMA_LOCK : FAULT_SPEC;
          this.major = this.fault & VM_FAULT_MAJOR;
          this.at = At.Retry;
          break;
        }
        case At.Retry:
          if ((this.fault & VM_FAULT_RETRY) === 0) {
            this.at = At.Finish;
            break;
          }
          // lock_mm_and_find_vma(): mmap_read_lock, find_vma, access checks.
          if (mm.mmapLock.downReadFast(t)) this.at = At.Locked;
          else {
            // The sync down_read() would do first, here (the hot path's usual wait).
            this.at = At.DownRead;
            if (t.mustSync()) return STEP_SYNC;
          }
          break;
        case At.DownRead:
          this.at = At.Locked;
          if (!mm.mmapLock.downReadFast(t)) return t.stepCall(mm.mmapLock.downRead(t));
          break;
        case At.Locked:
          // No sync of its own: the down_read() above just synced, and the walk is one step.
          this.at = At.Found;
          if (k.opts.vmacache !== 'none') return t.stepCall(findVmaCached(th, addr));
          t.ret = findVmaLocked(th, addr);
          break;
        case At.Found: {
          const vma = t.ret as Vma | null;
          this.vma = vma;
          if (vma !== null && vma.start > addr) {
            this.at = At.Expanded;
            return t.stepCall(expandStack(th, vma, addr));
          }
          t.ret = vma !== null;
          this.at = At.Expanded;
          break;
        }
        case At.Expanded: {
          const vma = this.vma!;
          if (t.ret !== true) return this.segv(t, `no mapping at 0x${addr.toString(16)}`);
          if (accessError(this.write, vma)) return this.segv(t, `${this.write ? 'write' : 'read'} to ${vma.toString()} at 0x${addr.toString(16)}`);
          // handle_mm_fault(), its common anonymous case as a call.
          const vmf = handleMmFaultAnonFast(th, vma, addr, this.flags, this.vmf);
          this.at = At.Handled;
          if (vmf === null) return t.stepCall(handleMmFaultWalked(th, vma, addr, this.flags));
          this.anon = doAnonymousPageCall(th, vmf, this.anon);
          if (!t.eng.calls) return t.stepCall(this.anon);
          // do_anonymous_page()'s frame: its steps taken from here (At.Anon), not as a call.
          this.at = At.Anon;
          break;
        }
        case At.Anon: {
          const r = (this.anon as StepFrame).step(t);
          if (r < 0) return r;
          t.ret = r;
          this.at = At.Handled;
          break;
        }
        case At.Handled:
          this.fault = t.ret as number;
          this.major |= this.fault & VM_FAULT_MAJOR;
          this.at = At.Retry;
          if (this.fault & VM_FAULT_RETRY) {
            // The handler dropped the mmap lock; go round again with FAULT_FLAG_TRIED.
            this.flags = (this.flags | FAULT_FLAG_TRIED) & ~FAULT_FLAG_ALLOW_RETRY;
            break;
          }
          // VM_FAULT_COMPLETED: done, and the handler already released the lock.
          if ((this.fault & VM_FAULT_COMPLETED) === 0 && !mm.mmapLock.upReadFast(t)) return t.stepCall(mm.mmapLock.upRead(t));
          break;
        case At.Finish:
          return this.finish(t);
        case At.SignalUnlocked:
          this.outcome = finishSignal(th, this.start, outcomeOf(this.path, this.flags, 0), this.ip, addr, SIGSEGV, this.detail);
          return 1;
      }
    }
  }

  /** bad_area(): release the mmap lock, then SIGSEGV. */
  private segv(t: Task, detail: string): number {
    this.detail = detail;
    this.at = At.SignalUnlocked;
    return t.stepCall(this.th.mm.mmapLock.upRead(t));
  }

  /** The fault is handled: its errors as signals, else the accounting of a completed fault. */
  private finish(t: Task): number {
    const th = this.th;
    const k = th.k;
    const { start, ip, addr, fault, flags, path } = this;
    if (fault & VM_FAULT_ERROR) {
      const o = outcomeOf(path, flags, 0);
      if (fault & VM_FAULT_OOM) this.outcome = finishSignal(th, start, o, ip, addr, SIGKILL, 'out of memory (the model\'s memory limit)');
      else if (fault & VM_FAULT_SIGBUS) this.outcome = finishSignal(th, start, o, ip, addr, SIGBUS, `bus error at 0x${addr.toString(16)}`);
      else if (fault & VM_FAULT_SIGSEGV) this.outcome = finishSignal(th, start, o, ip, addr, SIGSEGV, `access error at 0x${addr.toString(16)}`);
      if (this.outcome !== null) return 1;
    }
    // The invariant checks (--check): the PTE this fault handled, if it is there.
    if (k.dbg !== null) k.dbg.faultDone(th, addr, lookupPteTable(k.geo, th.mm.pgd, addr));
    // Per-task and perf accounting of a completed fault (mm_account_fault()).
    const isMajor = this.major !== 0 || (flags & FAULT_FLAG_TRIED) !== 0;
    if (isMajor) {
      th.majFlt++;
      k.em.count(EV.MAJOR_FAULTS, th);
    } else {
      th.minFlt++;
      k.em.count(EV.MINOR_FAULTS, th);
    }
    t.cost(k.costs.trapExitNs);
    t.exitKernel();
    if (k.em.wantsFaults) k.em.faultDone(th, start, t.clock, outcomeOf(path, flags, isMajor ? FAULT_MAJOR : 0), ip, addr);
    return 0;
  }
}

/** The faultDone() outcome bits: the path, whether the mmap-lock path went round again, and `more`. */
function outcomeOf(path: number, flags: number, more: number): number {
  return path | (flags & FAULT_FLAG_TRIED ? FAULT_RETRIED : 0) | more;
}

function finishSignal(th: Thread, start: number, outcome: number, ip: number, addr: number, signal: number, detail: string): FaultOutcome {
  th.t.cost(th.k.costs.trapExitNs);
  th.t.exitKernel();
  if (th.k.em.wantsFaults) th.k.em.faultDone(th, start, th.t.clock, outcome | (signal << FAULT_SIGNAL_SHIFT), ip, addr);
  return { signal, detail };
}

/** stack_guard_gap: 256 pages (1 MiB with 4 KiB pages) must stay free below a stack. */
const STACK_GUARD_GAP_PAGES = 256;

/** RLIMIT_STACK's usual soft limit (ulimit -s 8192). */
const RLIMIT_STACK = 8 * 1024 * 1024;

/**
 * expand_stack() -> expand_downwards() for a fault below a VM_GROWSDOWN VMA, under the mmap
 * lock held for reading (as until 6.5) and page_table_lock: the VMA's start moves down to the
 * faulting page, keeping the guard gap to the VMA below. False if it cannot grow there.
 */
function* expandStack(th: Thread, vma: Vma, addr: number): Code<boolean> {
  if ((vma.flags & VM_GROWSDOWN) === 0) return false;
  const k = th.k;
  const ps = k.pageSize;
  const newStart = addr - (addr % ps);
  // RLIMIT_STACK (8 MiB by default) bounds the stack's size.
  if (vma.end - newStart > RLIMIT_STACK) return false;
  // The guard gap is kept to the VMA below unless that is another stack or PROT_NONE.
  const below = th.mm.vmas.prev(vma);
  const guarded = below !== null && (below.flags & VM_GROWSDOWN) === 0 && (below.flags & VM_ACCESS_FLAGS) !== 0;
  if (below !== null && newStart < below.end + (guarded ? STACK_GUARD_GAP_PAGES * ps : 0)) return false;
  if (vma.anonVma === null) yield* anonVmaPrepare(th, vma);
  yield* th.mm.pageTableLock.lock(th.t);
  if (vma.start > newStart) {
    yield* k.spf.anonVmaAttach(th, vma, () => {
      vma.pgoff -= (vma.start - newStart) / ps;
      vma.start = newStart;
    });
    vma.line.writeBy(th.t);
  }
  yield* th.mm.pageTableLock.unlock(th.t);
  return true;
}

/** The PTE the MMU would see at addr (0 if no table), without costs: for trace fields. */
function peekPte(th: Thread, addr: number): number {
  const pt = pteTableOf(th, addr);
  return pt === null ? 0 : pt.ptes[th.k.geo.index(th.k.geo.levels - 1, addr)];
}
