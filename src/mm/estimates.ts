/**
 * Costs of kernel steps that no arch table carries, each an estimate declared in
 * src/config/constants.ts (target `run`): a run reads them from its Kernel (`k.est`), scaled by
 * the run's perturbation, so `validate --sensitivity` can move them like every other constant.
 */

/** call_rcu() of a VMA, on the caller: queue a callback on this CPU's list (~100 cycles; estimate). */
const CALL_RCU_NS = 40;
/**
 * __free_vma(): fput/mpol_put/kmem_cache_free of the VMA (a slab free ~50-100 cycles, Mel
 * Gorman's SLUB microbenchmarks, plus the two puts; estimate ~250 cycles).
 */
const FREE_VMA_NS = 100;
/** srcu_read_lock()/srcu_read_unlock(): a per-CPU increment and smp_mb (~10 cycles; estimate). */
const SRCU_READ_NS = 5;
/**
 * Copying the ~200-byte vm_area_struct onto the stack (Peter Zijlstra's estimate of its size):
 * four cache lines, in cache, at ~32 bytes per cycle (Intel optimization manual, rep movsb /
 * AVX copies) plus the misses' overlap; estimate ~40 cycles.
 */
const VMA_COPY_NS = 15;
/**
 * balance_dirty_pages_ratelimited() fast path: a per-CPU counter bump and a compare, ~50 cycles
 * (estimate: a this_cpu_inc and two loads, Intel optimization manual latencies).
 */
const DIRTY_RATELIMIT_NS = 20;
/**
 * balance_dirty_pages(): the dirty-threshold computation every ratelimit pages
 * (global_dirty_limits + wb stats, a few hundred instructions and some cache misses; estimate,
 * ~2000 cycles).
 */
const BALANCE_DIRTY_NS = 800;

/**
 * When a shootdown IPI reaches its target, as a share of the round trip less the handler
 * (ipiRoundTripNs - ipiHandlerNs): the request's leg (the ICR write, in a guest its exit and the
 * host's kick of the target vCPU) taken as half, the ack's leg (the csd line back) the other half
 * (estimate: no measurement splits the legs; the round trip is the measured figure).
 */
const IPI_DELIVERY_SHARE = 0.5;

/** The estimates by their declared names (src/config/constants.ts). */
const ESTIMATES = { CALL_RCU_NS, FREE_VMA_NS, SRCU_READ_NS, VMA_COPY_NS, DIRTY_RATELIMIT_NS, BALANCE_DIRTY_NS, IPI_DELIVERY_SHARE };

/** The estimates a run uses, by their declared names. */
export type KernelEstimates = { readonly [K in keyof typeof ESTIMATES]: number };

/** The estimates, each scaled by `factor(name)` (a run's perturbation; 1 as shipped). */
export function kernelEstimates(factor: (name: keyof KernelEstimates) => number = () => 1): KernelEstimates {
  const out = { ...ESTIMATES };
  for (const name of Object.keys(out) as (keyof KernelEstimates)[]) out[name] *= factor(name);
  return out;
}
