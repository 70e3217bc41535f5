/**
 * From what twins/hostcost.c measured on this machine to the model's cost fields. Each measured
 * figure is a whole operation (a fault, a munmap); the model charges that operation as many
 * steps, most of them from the arch table. So the model is run on the same operation (the
 * microbenchmark written as a workload, below) with the cost being derived set to 0, and the
 * cost is what the measurement has beyond that:
 *
 *   syscallNs     = a null syscall (getppid), as measured
 *   guestFaultNs  = a first-touch write fault (a 4 MiB mapping, THP off), minus what the model
 *                   charges for the same fault on this machine with guestFaultNs = 0 (x86 guests)
 *   vmaAllocNs    = [munmap of a never-touched page inside a mapping (a __split_vma() and a
 *                   remove_vma(): vm_area_dup() and vm_area_free(), the anon_vma chain, the VMA
 *                   tree's stores)] minus the model's same munmap with vmaAllocNs = 0 (and the
 *                   measured syscall), over the VMA allocations and frees the model charges in
 *                   it (2; counted by running it with vmaAllocNs raised): the host's VMA
 *                   bookkeeping, which the arch table only estimates (x86: two slab fast paths
 *                   and the fill, 150 ns)
 *   tlbFlushOneNs = [munmap of a written page - munmap of a never-touched page], 1 thread, minus
 *                   the model's same difference with tlbFlushOneNs = 0 (the zap, the page's
 *                   freeing): what the flush of one page costs here
 *   pvTlbFlushNs  = the same difference with a second thread of the process running on the
 *                   other CPU, minus the model's with every flush cost 0: a paravirtual guest's
 *                   flush_tlb_multi hypercall (Machine.remoteTlbFlush 'hypercall')
 *   pvTlbFlushTargetNs = meanwhile, what the second thread (a user-mode loop) loses per flush
 *                   that reaches it: its loop rate during the written pages' munmaps against
 *                   during the untouched ones', times their duration (the model charges a
 *                   hypercall flush's targets nothing else)
 *   ipiRoundTripNs= the same, on a machine that flushes by IPI: minus the model's difference with
 *                   the round trip 0 (its local flush and zap stay in it)
 *   wakeupNs      = from the waker's FUTEX_WAKE to the woken thread back in user mode (futex
 *                   ping-pong between two CPUs, the rounds the partner slept in), minus one
 *                   syscall (the waker's entry and the wakee's return), as the engine's wake-up
 *                   latency is counted; a measurement of an older hostcost: half the round trip
 *   ttwuNs        = the waker's time in FUTEX_WAKE minus one syscall: its try_to_wake_up()
 *   wakeupSpread  = how much a wake-up's latency varies: a thread on the other CPU is woken 1,
 *                   2, ... 48 us after it went to sleep, in turn (hostcost wakeidle); the 10th to
 *                   90th percentile of FUTEX_WAKE to running, over the median, made the width of
 *                   a uniform draw's middle 80 % (the model draws each wake-up in wakeupNs x
 *                   [1 - s, 1 + s]); at most 0.95. On this KVM guest they spread from ~8 to ~39 us
 *                   about ~20 us, against +-5 % in the ping-pong: how long the vCPU has been
 *                   halted, and the host's halt polling, decide it
 *
 * A figure the machine was too busy to measure (the second thread off its CPU through most
 * munmaps, the futex partner not asleep when woken) is left out, and said.
 */
import type { ArchCosts, ArchProfile } from '../config/arch.js';
import type { Machine } from '../config/machine.js';
import { checkWorkload } from '../workload/check.js';
import { parseWorkload } from '../workload/parser.js';
import { resolveParams } from '../workload/params.js';
import { runWorkload } from '../sim/run.js';
import { runOptionsOf } from '../sim/setup.js';
import type { KernelConfig } from '../config/kconfig.js';

/** What one measurement of the host gave (medians of hostcost's samples). */
export interface HostMeasurement {
  readonly syscallNs: number;
  readonly faultNs: number;
  /** The faults' mean, tail included (what a loop of faults pays; older caches lack it). */
  readonly faultMeanNs?: number;
  /** The same fault while another process faults on the other CPU (absent on one CPU); meanNs as faultMeanNs. */
  readonly fault2?: { readonly faultNs: number; readonly otherFaults: number; readonly meanNs?: number };
  readonly munmap1: { readonly touchedNs: number; readonly untouchedNs: number };
  /** With a second thread running the mm on another CPU (absent on one CPU). */
  readonly munmap2?: {
    readonly touchedNs: number;
    readonly untouchedNs: number;
    readonly otherRunning: number;
    /** The spinning second thread's loop time lost per flush that reached it (older caches lack it). */
    readonly targetLostNs?: number;
  };
  /**
   * A futex ping-pong between two CPUs (absent on one CPU); wakeToRunNs: from the waker's
   * FUTEX_WAKE to the woken thread back in user mode (older caches lack it).
   */
  readonly futex?: { readonly rttNs: number; readonly wakeNs: number; readonly woke: number; readonly wakeToRunNs?: number };
  /**
   * Wake-ups of a thread idle for 1 to 48 us (absent on one CPU, and in older caches): the 10th,
   * 50th and 90th percentiles of FUTEX_WAKE to the woken thread running, and the share of the
   * rounds it was asleep in.
   */
  readonly wakeIdle?: { readonly p10Ns: number; readonly p50Ns: number; readonly p90Ns: number; readonly slept: number };
}

/** What the model charges for the same operations with the derived costs at 0. */
export interface ModelReference {
  readonly faultNs: number;
  readonly munmap1: { readonly touchedNs: number; readonly untouchedNs: number };
  readonly munmap2: { readonly touchedNs: number; readonly untouchedNs: number };
  /** ns the model's untouched munmap grows by per ns of vmaAllocNs (how many VMA allocations and frees it charges). */
  readonly vmaAllocsPerMunmap: number;
}

/** One derived cost and how. */
export interface Derivation {
  readonly key: keyof ArchCosts;
  readonly value: number;
  readonly how: string;
  /** How the value reads: ' ns' for a time (absent: ' ns'), '' for a ratio. */
  readonly unit?: string;
}

export interface MappedCosts {
  readonly costs: Partial<ArchCosts>;
  readonly derivations: readonly Derivation[];
  /** Figures not derived, and why. */
  readonly notes: readonly string[];
}

/** Below this share of munmaps with the second thread on its CPU, the 2-thread figure is not a remote flush's. */
const MIN_OTHER_RUNNING = 0.5;
/** Below this share of FUTEX_WAKEs that found the partner asleep, the round trip is not a wake-up's. */
const MIN_WOKE = 0.5;

const r = Math.round;
/** wakeupSpread's ceiling: a draw of wakeupNs x (1 - s) stays a positive latency. */
const MAX_WAKEUP_SPREAD = 0.95;

/**
 * The costs the measurement gives, derived against the model's reference. `pvFlush`: the
 * machine's remote flush is a hypercall (pvTlbFlushNs), else IPIs (ipiRoundTripNs).
 */
export function mapHostCosts(m: HostMeasurement, ref: ModelReference, pvFlush: boolean): MappedCosts {
  const d: Derivation[] = [];
  const notes: string[] = [];
  const add = (key: keyof ArchCosts, value: number, how: string): void => {
    if (value > 0) d.push({ key, value: r(value), how });
    else notes.push(`${key}: ${how} is not positive (${r(value)} ns): not derived`);
  };
  add('syscallNs', m.syscallNs, 'a null syscall (getppid)');
  add('guestFaultNs', m.faultNs - ref.faultNs, `a fault ${r(m.faultNs)} ns - the model's ${r(ref.faultNs)} ns without it`);
  if (m.fault2 !== undefined && m.fault2.otherFaults >= MIN_OTHER_RUNNING) {
    // What two vCPUs faulting at once cost each other in the hypervisor: shown, not modelled.
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${r(x * 100)} %`;
    const more = m.fault2.faultNs / m.faultNs - 1;
    const mean =
      m.fault2.meanNs !== undefined && m.faultMeanNs !== undefined && m.faultMeanNs > 0
        ? `; their mean, tail included, ${r(m.fault2.meanNs)} ns against ${r(m.faultMeanNs)} ns alone, ${pct(m.fault2.meanNs / m.faultMeanNs - 1)}`
        : '';
    notes.push(`a fault while another process faults on the other CPU: ${r(m.fault2.faultNs)} ns, ${pct(more)}${mean} (not in the model: its guest costs do not grow with concurrency)`);
  } else if (m.fault2 !== undefined) {
    notes.push(`a fault while another process faults on the other CPU: not measured (it faulted through only ${r(m.fault2.otherFaults * 100)} % of ours)`);
  }
  if (ref.vmaAllocsPerMunmap > 0) {
    // __split_vma() and remove_vma() of the untouched page: vm_area_dup()/vm_area_free(), the
    // anon_vma chain, the maple tree's node allocation and store; the model charges them as
    // vmaAllocNs, the rest of its munmap (syscall, locks, tree lines) is in its reference.
    // The reference charges no syscall (syscallNs is derived too): this one's is the measured.
    const model = ref.munmap1.untouchedNs + m.syscallNs;
    add('vmaAllocNs', (m.munmap1.untouchedNs - model) / ref.vmaAllocsPerMunmap, `munmap of an untouched page (a split and a removal) ${r(m.munmap1.untouchedNs)} ns - the model's ${r(model)} ns without them, over the ${ref.vmaAllocsPerMunmap} VMA allocations and frees it charges`);
  }
  const real1 = m.munmap1.touchedNs - m.munmap1.untouchedNs;
  const model1 = ref.munmap1.touchedNs - ref.munmap1.untouchedNs;
  const flushOne = real1 - model1;
  add('tlbFlushOneNs', flushOne, `munmap of a written page - of an untouched one, ${r(real1)} ns - the model's ${r(model1)} ns without the flush`);
  if (m.munmap2 !== undefined) {
    const real2 = m.munmap2.touchedNs - m.munmap2.untouchedNs;
    const model2 = ref.munmap2.touchedNs - ref.munmap2.untouchedNs;
    if (m.munmap2.otherRunning < MIN_OTHER_RUNNING) {
      notes.push(`${pvFlush ? 'pvTlbFlushNs' : 'ipiRoundTripNs'}: the second thread ran through only ${r(m.munmap2.otherRunning * 100)} % of the munmaps (a busy machine): not derived`);
    } else if (pvFlush) {
      add('pvTlbFlushNs', real2 - model2, `the same with a second thread running, ${r(real2)} ns - the model's ${r(model2)} ns without any flush`);
      // The model's hypercall flush charges the targets nothing else: all they lose is this.
      if (m.munmap2.targetLostNs !== undefined) add('pvTlbFlushTargetNs', m.munmap2.targetLostNs, "the second thread's loop time lost per flush that reached it");
    } else {
      // The IPI flush also flushes locally: that part is tlbFlushOneNs, measured above.
      add('ipiRoundTripNs', real2 - model2 - Math.max(0, flushOne), `the same with a second thread running, ${r(real2)} ns - the model's ${r(model2)} ns without the round trip - the local flush`);
    }
  }
  if (m.futex !== undefined) {
    if (m.futex.woke < MIN_WOKE) {
      notes.push(`wakeupNs, ttwuNs: FUTEX_WAKE found its partner asleep only ${r(m.futex.woke * 100)} % of the time: not derived`);
    } else {
      // The wake-up timed from the waker's FUTEX_WAKE to the woken thread in user mode, less the
      // syscall's entry and exit around it; an older measurement gives half the round trip.
      if (m.futex.wakeToRunNs !== undefined) add('wakeupNs', m.futex.wakeToRunNs - m.syscallNs, `FUTEX_WAKE to the woken thread running ${r(m.futex.wakeToRunNs)} ns - a syscall`);
      else add('wakeupNs', m.futex.rttNs / 2 - m.syscallNs, `half a futex round trip ${r(m.futex.rttNs / 2)} ns - a syscall`);
      add('ttwuNs', m.futex.wakeNs - m.syscallNs, `FUTEX_WAKE ${r(m.futex.wakeNs)} ns - a syscall`);
    }
  }
  if (m.wakeIdle !== undefined) {
    const w = m.wakeIdle;
    if (w.slept < MIN_WOKE) notes.push(`wakeupSpread: the sleeper was asleep in only ${r(w.slept * 100)} % of the wake-ups: not derived`);
    else if (!(w.p50Ns > 0) || !(w.p90Ns >= w.p10Ns)) notes.push(`wakeupSpread: the wake-ups' percentiles (${r(w.p10Ns)}, ${r(w.p50Ns)}, ${r(w.p90Ns)} ns) are not a spread: not derived`);
    else {
      // A uniform draw in wakeupNs x [1 - s, 1 + s] has its 10th and 90th percentiles at
      // 1 -+ 0.8 s: the s whose middle 80 % is as wide, about the median, as the measured one's.
      const spread = Math.min(MAX_WAKEUP_SPREAD, (w.p90Ns - w.p10Ns) / (1.6 * w.p50Ns));
      d.push({ key: 'wakeupSpread', value: Math.round(spread * 100) / 100, unit: '', how: `wake-ups of a thread idle 1-48 us: 10th-90th percentile ${r(w.p10Ns)}-${r(w.p90Ns)} ns about a median of ${r(w.p50Ns)} ns, as a uniform draw's +-${Math.round(spread * 100)} %${spread === MAX_WAKEUP_SPREAD ? ' (at most)' : ''}` });
    }
  }
  const costs: Partial<Record<keyof ArchCosts, number>> = {};
  for (const x of d) costs[x.key] = x.value;
  return { costs: costs as Partial<ArchCosts>, derivations: d, notes };
}

/** The fault microbenchmark as a workload: the touch loop of a fresh 4 MiB mapping, timed. */
export const FAULT_SPF = `# hostcost fault, as the model runs it
param reps = 1
process {
  loop $reps {
    a = mmap 4M
    madvise a nohugepage
    let t0 = now
    touch a write
    count fault_ns (now - t0) * 1000000000
    munmap a
  }
}
`;

/**
 * The munmap microbenchmark: one PTE table's 512 pages, the even ones of the first `n` and the
 * last written; the first `n` unmapped one by one and timed, written and untouched apart; with
 * threads=2 a second thread computes on the other CPU all along. (The real one unmaps 510 pages
 * a mapping for its medians; the model's figures are the same for each, so fewer do.)
 */
export const MUNMAP_SPF = `# hostcost munmap, as the model runs it
param reps = 1
param threads = 1
param n = 64
process {
  threads $threads pin {
    if $tid == 0 {
      loop $reps {
        a = mmap 2M
        madvise a nohugepage
        touch a write stride 8K length $n * 4K
        touch a write offset 511 * 4K length 4K
        let i = 0
        loop $n {
          let t0 = now
          munmap a offset i * 4K length 4K
          if i % 2 == 0 {
            count touched_ns (now - t0) * 1000000000
          } else {
            count untouched_ns (now - t0) * 1000000000
          }
          let i = i + 1
        }
        munmap a offset $n * 4K length (512 - $n) * 4K
      }
    } else {
      compute 100ms
    }
  }
}
`;

function runSource(source: string, paramArgs: readonly string[], machine: Machine, arch: ArchProfile, config: KernelConfig, ncpus: number): ReadonlyMap<string, number> {
  const workload = parseWorkload(source, 'hostcost.spf');
  checkWorkload(workload);
  const params = resolveParams(workload, paramArgs, { ncpus, seed: 1 });
  return runWorkload(runOptionsOf({ workload, params, paramArgs, arch, machine, ncpus, seed: 1, config, check: false })).counters;
}

/**
 * What the model gives for hostcost's operations on `machine` with the arch profile `arch` (the
 * machine's own costs merged in) under the kernel `config`: per fault, per munmap of a written
 * and of an untouched page with 1 and 2 threads. Deterministic.
 */
export function modelFigures(machine: Machine, arch: ArchProfile, config: KernelConfig): ModelReference {
  const fault = runSource(FAULT_SPF, [], machine, arch, config, 1);
  const pages = (4 * 1024 * 1024) / 2 ** arch.pageShift;
  const one = runSource(MUNMAP_SPF, ['threads=1'], machine, arch, config, 2);
  const two = runSource(MUNMAP_SPF, ['threads=2'], machine, arch, config, 2);
  const per = (c: ReadonlyMap<string, number>, k: string): number => (c.get(k) ?? 0) / 32;
  const probe = 1000;
  const plus = { vmaAllocNs: (machine.costs?.vmaAllocNs ?? arch.costs.vmaAllocNs) + probe };
  const more = runSource(MUNMAP_SPF, ['threads=1'], { ...machine, costs: { ...machine.costs, ...plus } }, { ...arch, costs: { ...arch.costs, ...plus } }, config, 2);
  return {
    vmaAllocsPerMunmap: Math.round((per(more, 'untouched_ns') - per(one, 'untouched_ns')) / probe),
    faultNs: (fault.get('fault_ns') ?? 0) / pages,
    munmap1: { touchedNs: per(one, 'touched_ns'), untouchedNs: per(one, 'untouched_ns') },
    munmap2: { touchedNs: per(two, 'touched_ns'), untouchedNs: per(two, 'untouched_ns') },
  };
}

/**
 * The reference the measurement is mapped against: modelFigures() on `machine` (its arch
 * profile `base`, the machine's own overrides merged) with the derived costs at 0.
 */
export function modelReference(machine: Machine, base: ArchProfile, config: KernelConfig): ModelReference {
  const zero: Partial<ArchCosts> = { syscallNs: 0, guestFaultNs: 0, tlbFlushOneNs: 0, pvTlbFlushNs: 0, ipiRoundTripNs: 0, vmaAllocNs: 0 };
  const arch: ArchProfile = { ...base, costs: { ...base.costs, ...machine.costs, ...zero } };
  return modelFigures({ ...machine, costs: { ...machine.costs, ...zero } }, arch, config);
}
