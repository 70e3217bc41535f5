import { setFlagsFromString } from 'node:v8';

/**
 * How much bytecode TurboFan may inline into one optimized function, in all (V8's
 * `--max-inlined-bytecode-size-cumulative`, 920 by default in Node 20-24's V8). The fault path's
 * step functions (do_user_addr_fault(), do_anonymous_page(), the touch loop) call many small
 * helpers (a cost, a count, a lock's fast path, a cache line's access), and at the default budget
 * the last of them are left as calls: on page_fault1, `clearPage()`, `jitter()`, `pteTableOf()`
 * and the counting sink were calls, and a float returned from a call is a heap number. A setting
 * of the host's compiler, not of the model: it changes host time only, never a simulated figure
 * (docs/performance.md, "The inlining budget", has the runs it was picked from).
 */
export const INLINED_BYTECODE_CUMULATIVE = 3000;

/**
 * Raise the inlining budget for this process before the simulator's hot code is optimized
 * (src/sim/run.ts calls it as it loads; setting it again changes nothing). V8 reads the flag when
 * it optimizes a function, so code optimized earlier keeps its inlining; flags are per process,
 * so worker threads share it.
 */
export function tuneV8(): void {
  setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_CUMULATIVE}`);
}
