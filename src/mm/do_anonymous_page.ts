import { STEP_CALL, STEP_SYNC, SYNC, StepFrame, calleeOf, type Code, type Task } from '../engine/engine.js';
import type { SpinSection } from '../engine/spin-section.js';
import type { Thread } from './kernel.js';
import { putPage } from './page.js';
import { pageAddNewAnonRmap, vmfAnonPrepare } from './rmap.js';
import { addMmCounterFastEvent, syncMmRss } from './rss.js';
import { pteMapLock, pteUnlock, type Vmf } from './vmf.js';
import { vmfUse } from './debug_vm.js';
import { FAULT_FLAG_WRITE, PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, VM_FAULT_OOM, VM_FAULT_RETRY, VM_FAULT_SIGBUS, VM_SHARED, VM_WRITE, ZERO_PFN } from './types.js';

/**
 * do_anonymous_page() (mm/memory.c): the first touch of an anonymous page, the hot path of every
 * anonymous fault. A step function (StepFrame, engine/task.ts), as it syncs at least twice a
 * fault (the PTE lock and its release): entered as a call where the engine runs calls
 * (doAnonymousPageCall), else through the generator doAnonymousPage().
 */
export function* doAnonymousPage(th: Thread, vmf: Vmf): Code<number> {
  // A generator of its own, not runFrame()'s alone: the name a lock wait's stack shows (lock
  // contention's caller, cpu-clock's chains), the frame's step() being off the stack meanwhile.
  // runFrame()'s loop, here: its generator would be one more to resume at every sync.
  const t = th.t;
  const f = new DoAnonymousPage(th, vmf);
  for (;;) {
    const r = f.step(t);
    if (r >= 0) return r;
    if (r === STEP_CALL) t.ret = yield* calleeOf(t);
    else yield SYNC;
  }
}

/**
 * do_anonymous_page() to call (`yield t.call(...)`, `return t.stepCall(...)`): the frame where
 * the engine runs calls, else its generator, whose name a lock wait's stack then shows (a frame
 * called from a frame runs inside runFrame(), off the stack). `again`: what an earlier call of
 * the same caller's gave, returned since; a frame is made ready for `vmf` instead of a new one.
 */
export function doAnonymousPageCall(th: Thread, vmf: Vmf, again: StepFrame | Code<number> | null = null): StepFrame | Code<number> {
  if (!th.k.eng.calls) return doAnonymousPage(th, vmf);
  if (again instanceof DoAnonymousPage) {
    again.restart(vmf);
    return again;
  }
  return new DoAnonymousPage(th, vmf);
}

/** clear_page() (clear_page_erms on x86-64): zero a new page at the arch's bandwidth. */
function clearPage(th: Thread): void {
  th.t.cost(th.k.eng.jitter(th.k.pageSize / th.k.costs.clearBytesPerNs));
}

/** Where DoAnonymousPage.step() goes on. */
const enum At {
  Start,
  Prepared,
  Alloc,
  Refill,
  AllocCalled,
  Allocated,
  Lock,
  LockSpec,
  LockSpecCalled,
  LockSlow,
  Locked,
  Raced,
  Rss,
  Drain,
  Lru,
  Unlock,
  /** A call whose return value is the frame's. */
  ReturnRet,
  ReturnRetry,
  Return0,
}

class DoAnonymousPage extends StepFrame {
  private at = At.Start;
  private pfn = -1;
  private locked = true;
  /** The lock section under way (the pcp refill, the pagevec drain), whose steps step() takes. */
  private sec: SpinSection | null = null;

  constructor(
    private readonly th: Thread,
    private vmf: Vmf,
  ) {
    super();
  }

  /** Every field as the constructor leaves it, for the fault `vmf`. */
  restart(vmf: Vmf): void {
    this.vmf = vmf;
    this.at = At.Start;
    this.pfn = -1;
    this.locked = true;
  }

  step(t: Task): number {
    const th = this.th;
    const k = th.k;
    const vmf = this.vmf;
    const pt = vmf.pt;
    for (;;) {
      switch (this.at) {
        case At.Start: {
          const vma = vmf.vma;
          vmfUse(th, vma, pt, vmf.addr, 'do_anonymous_page');
          if (vma.flags & VM_SHARED) return VM_FAULT_SIGBUS; // shared anonymous memory is shmem
          vmf.spec?.enter?.(th, 'anon');
          if ((vmf.flags & FAULT_FLAG_WRITE) === 0) {
            this.at = At.ReturnRet;
            return t.stepCall(mapZeroPage(th, vmf));
          }
          if (vma.anonVma !== null) {
            this.at = At.Alloc;
            break;
          }
          // anon_vma_prepare() needs the mmap lock.
          if (vmf.spec !== null) {
            vmf.spec.noAnonVma?.(th);
            return VM_FAULT_RETRY;
          }
          this.at = At.Prepared;
          return t.stepCall(vmfAnonPrepare(th, vma, vmf.flags));
        }
        case At.Prepared:
          if (t.ret !== 0) return t.ret as number;
          this.at = At.Alloc;
          break;
        case At.Alloc: {
          this.pfn = k.alloc.allocPageFast(th);
          if (this.pfn !== -2) {
            this.at = At.Allocated;
            break;
          }
          // rmqueue_bulk() first: its section's steps taken here, or its generator called.
          const sec = k.alloc.refillSection(th);
          if (sec === null) {
            this.at = At.AllocCalled;
            return t.stepCall(k.alloc.refillPcp(th));
          }
          this.sec = sec;
          this.at = At.Refill;
          break;
        }
        case At.Refill: {
          const r = this.sec!.step(t);
          if (r < 0) return r;
          this.at = At.AllocCalled;
          break;
        }
        case At.AllocCalled:
          this.pfn = k.alloc.allocAfterRefill(th);
          this.at = At.Allocated;
          break;
        case At.Allocated:
          if (this.pfn < 0) return VM_FAULT_OOM;
          clearPage(th);
          k.contents?.clear(th, this.pfn, 'do_anonymous_page');
          this.at = At.Lock;
          break;
        case At.Lock: {
          // The uncontended classic case inline: the hot path of every anonymous fault.
          const spec = vmf.spec;
          if (spec !== null) {
            if (spec.pteMapLockStep !== undefined) this.at = At.LockSpec;
            else {
              this.at = At.LockSpecCalled;
              return t.stepCall(spec.pteMapLock(th, vmf));
            }
          } else if (pt.ptl.lockFast(t)) this.at = At.Locked;
          else {
            // spin_lock()'s sync, then the lock proper.
            this.at = At.LockSlow;
            if (t.mustSync()) return STEP_SYNC;
          }
          break;
        }
        case At.LockSpec: {
          // pte_map_lock() without a generator: its syncs answered from here.
          const r = vmf.spec!.pteMapLockStep!(th, vmf);
          if (r < 0) return STEP_SYNC;
          this.locked = r > 0;
          this.at = At.Locked;
          break;
        }
        case At.LockSpecCalled:
          this.locked = t.ret as boolean;
          this.at = At.Locked;
          break;
        case At.LockSlow:
          this.at = At.Locked;
          if (!pt.ptl.lockFast(t)) return t.stepCall(pt.ptl.lock(t));
          break;
        case At.Locked:
          if (!this.locked) {
            this.at = At.ReturnRetry;
            return t.stepCall(putPage(th, this.pfn));
          }
          if (k.dbg !== null) vmfUse(th, vmf.vma, pt, vmf.addr, 'do_anonymous_page');
          if (pt.ptes[vmf.idx] !== 0) {
            // Another fault mapped the page meanwhile.
            this.at = At.Raced;
            return t.stepCall(pteUnlock(th, vmf));
          }
          this.at = At.Rss;
          // inc_mm_counter_fast()
          if (addMmCounterFastEvent(th, 1)) return t.stepCall(syncMmRss(th));
          break;
        case At.Raced:
          this.at = At.Return0;
          return t.stepCall(putPage(th, this.pfn));
        case At.Rss:
          // page_add_new_anon_rmap() + lru_cache_add_active_or_unevictable()
          pageAddNewAnonRmap(th, this.pfn);
          this.at = At.Lru;
          if (k.lru.addFast(th, this.pfn)) {
            // __pagevec_lru_add(): its section's steps taken here, or its generator called.
            const sec = k.lru.drainSection(th);
            if (sec === null) return t.stepCall(k.lru.drain(th));
            this.sec = sec;
            this.at = At.Drain;
          }
          break;
        case At.Drain: {
          const r = this.sec!.step(t);
          if (r < 0) return r;
          this.at = At.Lru;
          break;
        }
        case At.Lru:
          pt.ptes[vmf.idx] = (this.pfn << PTE_SHIFT) | PTE_PRESENT | (vmf.vma.flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0);
          pt.used++;
          t.cost(k.costs.pteSetNs);
          if (pt.ptl.unlockFast(t)) return 0;
          // spin_unlock()'s sync, then the unlock proper.
          this.at = At.Unlock;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.Unlock:
          this.at = At.Return0;
          if (!pt.ptl.unlockFast(t)) return t.stepCall(pt.ptl.unlock(t));
          return 0;
        case At.ReturnRet:
          return t.ret as number;
        case At.ReturnRetry:
          return VM_FAULT_RETRY;
        case At.Return0:
          return 0;
      }
    }
  }
}

/** A read fault of an anonymous page: map the shared zero page read-only. */
function* mapZeroPage(th: Thread, vmf: Vmf): Code<number> {
  const pt = vmf.pt;
  if (!(yield* pteMapLock(th, vmf))) return VM_FAULT_RETRY;
  if (pt.ptes[vmf.idx] === 0) {
    pt.ptes[vmf.idx] = (ZERO_PFN << PTE_SHIFT) | PTE_PRESENT;
    pt.used++;
    th.t.cost(th.k.costs.pteSetNs);
  }
  yield* pteUnlock(th, vmf);
  return 0;
}
