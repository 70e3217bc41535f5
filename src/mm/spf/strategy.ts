import type { Code } from '../../engine/engine.js';
import type { Thread } from '../kernel.js';

/**
 * A speculative page-fault design: it tries the fault without the mmap lock and answers
 * VM_FAULT_RETRY when the classic path must take it. One file per design implements this; the
 * classic path never branches on design names.
 */
export interface SpfStrategy {
  /** The config name of the design (e.g. 'dufour-v11'). */
  readonly name: string;
  /** Attempt the fault at `addr`; VM_FAULT_RETRY means "fall back to the mmap-lock path". */
  handleSpeculativeFault(th: Thread, addr: number, flags: number): Code<number>;
}
