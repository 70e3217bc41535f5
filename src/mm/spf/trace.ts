import { ksym } from '../../events/ksym.js';
import type { Thread } from '../kernel.js';
import type { Vma } from '../vma.js';

/**
 * The `caller` of a pagefault:* tracepoint is the _RET_IP_ of the aborting step: a kernel function
 * and an offset in the model's fake kernel text (src/events/ksym.ts), stable across runs and
 * versions. Designs name their abort sites with site() at module load.
 */
export interface SpfSite {
  readonly fn: string;
  readonly off: number;
  /** The site's address (low 32 bits). */
  readonly ip: number;
}

/** An abort site: kernel function `fn`, `off` bytes in (the instruction after the aborting call). */
export function site(fn: string, off: number): SpfSite {
  return { fn, off, ip: ksym(fn) + off };
}

/** Fire a pagefault:* tracepoint: caller, vm_start, vm_end, address. */
export function traceSpf(th: Thread, id: number, at: SpfSite, vma: Vma, addr: number): void {
  const em = th.k.em;
  if (em.sampling(id)) em.hit(id, th, [at.ip, vma.start, vma.end, addr]);
  else em.count(id, th);
}
