import type { Thread } from '../kernel.js';
import type { Vma } from '../vma.js';

/**
 * The `caller` of a pagefault:* tracepoint is the _RET_IP_ of the aborting step. The model has no
 * kernel text, so each abort site is a function and an offset in a fake but stable kernel text
 * layout; `siteName` turns an ip back into `function+0xoff` for report and script.
 */
const FUNCTIONS = [
  '__handle_speculative_fault',
  'pte_map_lock',
  'pte_spinlock',
  'do_user_addr_fault',
  'lock_vma_under_rcu',
  'find_vma_speculative',
] as const;

export type SpfFunction = (typeof FUNCTIONS)[number];

/** One abort site: a function and the offset of the instruction after the call that aborted. */
export interface SpfSite {
  readonly fn: SpfFunction;
  readonly off: number;
}

export function site(fn: SpfFunction, off: number): SpfSite {
  return { fn, off };
}

/** Low 32 bits of the fake kernel text address (the top half is 0xffffffff, see kernelIp). */
const KTEXT = 0x81200000;
const FN_SIZE = 0x400;

export function siteIp(s: SpfSite): number {
  return KTEXT + FUNCTIONS.indexOf(s.fn) * FN_SIZE + s.off;
}

/** The full 64-bit kernel address of a site ip, in hex without 0x (JS numbers cannot hold it). */
export function kernelIp(ip: number): string {
  return `ffffffff${ip.toString(16).padStart(8, '0')}`;
}

/** `function+0xoff` for an ip of the fake kernel text, or undefined. */
export function siteName(ip: number): string | undefined {
  const i = Math.floor((ip - KTEXT) / FN_SIZE);
  if (i < 0 || i >= FUNCTIONS.length) return undefined;
  return `${FUNCTIONS[i]}+0x${(ip - KTEXT - i * FN_SIZE).toString(16)}`;
}

/** Fire a pagefault:* tracepoint: caller, vm_start, vm_end, address. */
export function traceSpf(th: Thread, id: number, at: SpfSite, vma: Vma, addr: number): void {
  const em = th.k.em;
  if (em.sampling(id)) em.hit(id, th, [siteIp(at), vma.start, vma.end, addr]);
  else em.count(id, th);
}
