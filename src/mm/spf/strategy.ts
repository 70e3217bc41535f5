import type { Code, Engine } from '../../engine/engine.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { CacheLine } from '../../engine/cacheline.js';
import type { Vma } from '../vma.js';

/** Helpers that several designs share: RCU freeing of VMAs, per-mm sequence counts. */

/**
 * Free a VMA after an RCU grace period ("mm: rcu safe VMA freeing"), through the kernel's Rcu:
 * the grace period ends once every speculative lookup that was inside rcu_read_lock() when it
 * began has left (and no earlier than the arch's grace-period time). The caller pays for
 * call_rcu(); the CPU it ran on pays the free when the callback runs (RCU callbacks run on the
 * CPU that queued them, from softirq).
 */
export function* rcuFreeVma(th: Thread, vma: Vma): Code {
  th.t.cost(th.k.est.CALL_RCU_NS);
  const cpu = th.t.cpu;
  const k = th.k;
  const free = k.est.FREE_VMA_NS;
  k.rcu.callRcu(th.t, (time) => {
    k.eng.irqDebt[cpu] += free;
    k.dbg?.vmaFreed(vma, time);
  });
}

/** rcu_read_lock() around a speculative VMA lookup (CPU-local: no sync, no cost of its own). */
export function rcuReadLock(th: Thread): void {
  th.k.rcu.enter(th.t);
}

/** rcu_read_unlock() */
export function rcuReadUnlock(th: Thread): void {
  th.k.rcu.exit(th.t);
}

/** A per-mm sequence number a design adds (mmap_seq, mm_lock_seq) on its own cache line. */
export class MmSeq {
  value = 0;
  constructor(readonly line: CacheLine) {}
}

/** The MmSeq of each mm, created on first use with a line named `name(pid)`. */
export class MmSeqs {
  private readonly seqs = new WeakMap<MmStruct, MmSeq>();
  constructor(
    private readonly eng: Engine,
    private readonly name: string,
  ) {}

  of(mm: MmStruct): MmSeq {
    let s = this.seqs.get(mm);
    if (s === undefined) {
      s = new MmSeq(this.eng.line(`${this.name}(${mm.owner.pid})`));
      this.seqs.set(mm, s);
    }
    return s;
  }
}
