import type { Thread } from '../kernel.js';
import type { Vma } from '../vma.js';

/**
 * The `caller` of a pagefault:* tracepoint is the _RET_IP_ of the aborting function. The model
 * has no kernel text, so each abort site gets a stable fake address in kernel text; `siteName`
 * turns it back into the step's name for report and script.
 */
const SITES = [
  'get_vma',
  '__handle_speculative_fault',
  'handle_speculative_fault',
  'pte_map_lock',
  'pte_spinlock',
  'do_user_addr_fault',
  'lock_vma_under_rcu',
  'find_vma_speculative',
] as const;

export type SpfSite = (typeof SITES)[number];

const KTEXT = 0xffffffff81200000;

export function siteIp(site: SpfSite): number {
  return KTEXT + SITES.indexOf(site) * 0x100 + 0x2c;
}

export function siteName(ip: number): string | undefined {
  const i = Math.floor((ip - KTEXT) / 0x100);
  return i >= 0 && i < SITES.length && siteIp(SITES[i]) === ip ? SITES[i] : undefined;
}

/** Fire a pagefault:* tracepoint: caller, vm_start, vm_end, address. */
export function traceSpf(th: Thread, id: number, site: SpfSite, vma: Vma, addr: number): void {
  const em = th.k.em;
  if (em.sampling(id)) em.hit(id, th, [siteIp(site), vma.start, vma.end, addr]);
  else em.count(id, th);
}
