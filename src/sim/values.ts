import { SYNC, type Code } from '../engine/engine.js';
import { doUserAddrFault, userAccess, type FaultOutcome } from '../mm/access.js';
import { WORD_BYTES } from '../mm/contents.js';
import type { Thread } from '../mm/kernel.js';
import { lookupPteTable } from '../mm/pgtable.js';
import { PTE_SHIFT } from '../mm/types.js';
import type { Stmt, Workload } from '../workload/ir.js';

/**
 * The workload's `write` and `expect` statements (docs/workload-language.md): a user store or
 * load of one 8-byte word, through the MMU and the page-fault path as a `touch` is, on the page
 * contents the model keeps (src/mm/contents.ts) only for workloads that use them.
 */

/** Does the workload write or expect values (so that the run keeps page contents)? */
export function usesValues(w: Workload): boolean {
  const any = (ss: readonly Stmt[]): boolean =>
    ss.some((s) => s.k === 'write' || s.k === 'expect' || ('body' in s && any(s.body)) || (s.k === 'if' && (any(s.then) || (s.else !== undefined && any(s.else)))));
  return w.processes.some((p) => any(p.body));
}

/**
 * The address of the word at byte `offset` of a region of `len` bytes at `start`, or the reason
 * it is not one (outside the region, not a multiple of the word size).
 */
export function wordAddr(start: number, len: number, offset: number): number | string {
  if (!(offset >= 0 && offset + WORD_BYTES <= len)) return `offset ${offset} puts the word outside the region (${len} bytes)`;
  if (offset % WORD_BYTES !== 0) return `offset ${offset} is not a multiple of the word size (${WORD_BYTES} bytes)`;
  return start + offset;
}

/**
 * One `write` (value stored) or `expect` (value compared) at `addr`: the access, faulting until
 * the MMU can make it (`faulted` sees each fault's outcome and may end the thread), then the
 * word of the page the PTE maps. A wrong read throws the violation read-sees-last-write.
 */
export function* userValue(th: Thread, k: 'write' | 'expect', addr: number, value: number, ip: number, faulted: (out: FaultOutcome | null, attempt: number) => void): Code {
  const write = k === 'write';
  // The page's words, its PTE and the TLB are shared with every thread of the mm: the access
  // is made in time order with theirs (a thread running ahead of the others waits for them).
  if (th.t.mustSync()) yield SYNC;
  for (let attempt = 0; !userAccess(th, addr, write); attempt++) faulted(yield* doUserAddrFault(th, addr, write, ip), attempt);
  const c = th.k.contents;
  if (c === null) return;
  const geo = th.k.geo;
  const pt = lookupPteTable(geo, th.mm.pgd, addr)!;
  const pfn = pt.ptes[geo.index(geo.levels - 1, addr)] >>> PTE_SHIFT;
  const word = Math.floor((addr % geo.pageSize) / WORD_BYTES);
  if (write) c.store(pfn, word, value);
  else if (c.load(pfn, word) !== value) c.mismatch(th, addr, pfn, value, c.load(pfn, word));
}
