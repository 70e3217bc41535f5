import { Engine, getInvariantCheckDefault, type EngineCosts, type SchedPolicy, type Task } from '../engine/engine.js';
import { Topology } from '../engine/topology.js';
import type { RwsemEra } from '../engine/rwsem-era.js';
import type { ContentionTracer } from '../engine/lockstat.js';
import type { ArchProfile } from '../config/arch.js';
import type { Machine } from '../config/machine.js';
import { resolveConfig, type ThpAnonAlign, type VmaCacheKind } from '../config/kconfig.js';
import { EV } from '../events/catalog.js';
import { CountingSink, Emitter, type TraceSink } from '../trace/sink.js';
import { Kernel, type KernelOptions } from '../mm/kernel.js';
import { kernelEstimates } from '../mm/estimates.js';
import { RWSEM_SPINLOCK_CS_NS } from '../engine/rwsem-spinlock.js';
import type { SpfStrategy } from '../mm/spf/registry.js';
import type { Workload } from '../workload/ir.js';
import { Runner } from './interp.js';
import { collectResult, type CountsView, type RunResult } from './results.js';
import { HANDOFF_SHARE } from '../engine/cacheline.js';
import { factorOf, type Perturbation } from '../config/constants.js';
import { DebugVm } from '../mm/debug_vm.js';
import { PageContents } from '../mm/contents.js';
import { usesValues } from './values.js';
import { CpuClockSampler, type CpuClockOptions } from '../trace/cpu-clock.js';
import { ipOfLine } from '../trace/user-ip.js';
import type { Thread } from '../mm/kernel.js';
import { workloadAlive } from '../mm/khugepaged.js';
import { tuneV8 } from '../engine/v8-tuning.js';

// Before any run's code is optimized: the fault path's helpers inlined (engine/v8-tuning.ts).
tuneV8();

export { SIGNAL_NAMES, type MetricResult, type RunResult, type SignalResult, type ThreadResult } from './results.js';

/**
 * Runs a workload's IR on the model: builds the engine and the kernel for the machine and arch,
 * lets the interpreter (interp.ts) spawn the workload's threads, runs the engine, and collects
 * the result (results.ts).
 */

export interface RunOptions {
  readonly workload: Workload;
  /** Resolved parameters, built-ins included. */
  readonly params: ReadonlyMap<string, number>;
  readonly arch: ArchProfile;
  readonly machine: Machine;
  readonly ncpus: number;
  readonly seed: number;
  /** Sinks beyond the counting sink every run has. */
  readonly sinks?: readonly TraceSink[];
  /** Builds the page-fault design for the run's engine (default: the classic kernel). */
  readonly spf?: (eng: Engine) => SpfStrategy;
  /**
   * perf stat -I: every `intervalNs` of simulated time, `onInterval` gets the time and the counts
   * so far (read live: take the difference from the previous call for per-interval counts).
   */
  readonly intervalNs?: number;
  /** Kernel config knobs the mm model reads (default: off / madvise). */
  readonly faultCompleted?: boolean;
  /**
   * Leave the address space of an exited process in place (no exit_mmap) so that tests and
   * debugging can inspect its VMAs and page tables after the run.
   */
  readonly keepAddressSpaces?: boolean;
  /** khugepaged's scan period and batch, or null/undefined for none. */
  readonly khugepaged?: { readonly sleepMs: number; readonly pages: number } | null;
  readonly thp?: 'always' | 'madvise' | 'never';
  readonly vmacache?: VmaCacheKind;
  /** CONFIG_RWSEM_SPIN_ON_OWNER alone, over `rwsem`'s. */
  readonly rwsemSpinOnOwner?: boolean;
  /** rw_semaphore's behaviour in the kernel era (KernelConfig.rwsem). */
  readonly rwsem?: RwsemEra;
  /** spinlock_t: queued or ticket (KernelConfig.spinlock). */
  readonly spinlock?: 'queued' | 'ticket';
  readonly lazyTlb?: 'ipi' | 'skip';
  /** Which anonymous mappings get a PMD-aligned address (KernelConfig.thpAnonAlign). */
  readonly thpAnonAlign?: ThpAnonAlign;
  /** munmap() zaps under the mmap lock downgraded to read (kconfig `munmap_downgrade`). */
  readonly munmapDowngrade?: boolean;
  /** Per-VMA locks and a VMA without an anon_vma (kconfig `vma_lock_anon_vma`). */
  readonly vmaLockAnonVma?: 'inval' | 'trylock';
  readonly onInterval?: (timeNs: number, counts: CountsView) => void;
  /** Check the engine's sync rule on every shared access (--check; default: the engine's default). */
  readonly checkSync?: boolean;
  /**
   * Check the model's invariants as it runs (--check; src/mm/debug_vm.ts, docs/invariants.md):
   * a broken one stops the run with a ViolationError. `scanEvery` scans the whole state every N
   * engine items (1: after every step) instead of the default amortised interval. Default:
   * setInvariantCheckDefault()'s value (off, but on in the test suite).
   */
  readonly checkInvariants?: boolean | { readonly scanEvery?: number };
  /**
   * Declared constants of the engine and the simulator scaled for this run (HANDOFF_SHARE,
   * JITTER, ...; src/config/constants.ts). The arch's and machine's are already in `arch` and
   * `machine` (prepareRun() scales them).
   */
  readonly perturb?: Perturbation;
  /** Told every lock wait, and where the cache lines sum their transfers (spfperf lock contention). */
  readonly contention?: ContentionTracer;
  /** Sample the CPUs' simulated time (record -e cpu-clock, src/trace/cpu-clock.ts); observes only. */
  readonly cpuClock?: Omit<CpuClockOptions, 'ncpus' | 'userIp'>;
  /** A test-only mutant of the model (KernelOptions.mutant); never set from the command line. */
  readonly mutant?: KernelOptions['mutant'];
  /** Test-only: called with the kernel before the run starts (the invariant tests break it). */
  readonly testHook?: (k: Kernel) => void;
  /** The scheduling policy (spfperf check's strategies; default: the engine's plain FIFO one). */
  readonly sched?: (eng: Engine) => SchedPolicy;
  /** Seed of the engine's PRNG (cost jitter, random touch order) when not `seed` (a check schedule's). */
  readonly engineSeed?: number;
  /**
   * Stop the run at this simulated time (ns), as Ctrl-C would: the fuzz tests' cap
   * (SPFPERF_SIM_LIMIT_NS, docs/check.md#fuzzing). Default: none.
   */
  readonly stopAtNs?: number;
}

/** The kernel config no --config item changes: where a run's knobs default from. */
const DEFAULT_CONFIG = resolveConfig([]);

/**
 * The CFS time slice a task runs before a waiting task may preempt it: sysctl_sched_min_granularity
 * (0.75 ms) scaled by 1 + ilog2(min(ncpus, 8)) under the default SCHED_TUNABLESCALING_LOG
 * (kernel/sched/fair.c), i.e. 3 ms on any machine of 8 or more CPUs.
 */
const TIMESLICE_NS = 3_000_000;
/**
 * Run-to-run variation of the jittered costs (page clearing and copying, trap entry): +-2 %.
 * An estimate, not fitted: the spread perf stat -r shows for page-fault microbenchmarks on an
 * idle machine is of this order (cache and TLB state, frequency); it gives -r its variance.
 */
const JITTER = 0.02;
/** Engine lookahead for workload runs: below one socket-local cache-line transfer (~70 ns). */
const LOOKAHEAD_NS = 0;
/**
 * Storage write bandwidth when the machine profile gives none: 0.5 bytes/ns (500 MB/s, a SATA
 * SSD's sequential write; an estimate for machines whose storage is not described).
 */
const DEFAULT_WRITEBACK_BYTES_PER_NS = 0.5;

/** A task's user ip for a cpu-clock sample: its thread's statement, or 0 for a kernel thread. */
function userIpOf(t: Task): number {
  const th = t.ctx as Thread | null;
  return th === null || th.kernel || th.stmtLine === 0 ? 0 : ipOfLine(th.stmtLine);
}

/** The engine, kernel and interpreter of one run, ready to start (spfperf check drives it itself). */
export function setupRun(o: RunOptions): Runner {
  const p = o.perturb;
  const topo = new Topology(o.machine.topology, { ...o.arch.lineLatencies, ...o.machine.lineLatencies }, o.ncpus, HANDOFF_SHARE * factorOf(p, 'HANDOFF_SHARE'));
  const c = o.arch.costs;
  const jitter = JITTER * factorOf(p, 'JITTER');
  const costs: EngineCosts = { contextSwitchNs: c.contextSwitchNs, wakeupNs: c.wakeupNs, wakeupSpread: c.wakeupSpread, ttwuNs: c.ttwuNs, smtThroughput: c.smtThroughput, timesliceNs: TIMESLICE_NS, jitter, rwsemSpinlockCsNs: RWSEM_SPINLOCK_CS_NS * factorOf(p, 'RWSEM_SPINLOCK_CS_NS') };
  const checks = o.checkInvariants !== undefined ? o.checkInvariants !== false : getInvariantCheckDefault();
  let kernel: Kernel | undefined;
  const recording = (): boolean => kernel === undefined || workloadAlive(kernel);
  const sampler = o.cpuClock === undefined ? undefined : new CpuClockSampler({ ...o.cpuClock, ncpus: o.ncpus, userIp: userIpOf, recording });
  const eng = new Engine(topo, costs, o.engineSeed ?? o.seed, { checkSync: o.checkSync, spinlock: o.spinlock ?? DEFAULT_CONFIG.spinlock, trackLocks: checks, contention: o.contention ?? (o.cpuClock?.callchain === true ? sampler : undefined), sampler });
  const counting = new CountingSink();
  const em = new Emitter([counting, ...(o.sinks ?? [])]);
  eng.lookahead = LOOKAHEAD_NS;
  if (o.stopAtNs !== undefined) eng.stopAt = o.stopAtNs;
  if (o.sched !== undefined) eng.policy = o.sched(eng);
  // Knobs a caller leaves out take the default kernel config's values (kconfig.ts).
  const k = new Kernel(
    eng,
    o.arch,
    em,
    {
      memoryBytes: o.machine.memoryBytes,
      ioLatencyNs: o.machine.ioLatencyNs,
      writebackBytesPerNs: o.machine.writebackBytesPerNs ?? DEFAULT_WRITEBACK_BYTES_PER_NS * factorOf(p, 'DEFAULT_WRITEBACK_BYTES_PER_NS'),
      faultCompleted: o.faultCompleted ?? DEFAULT_CONFIG.faultCompleted,
      thp: o.thp ?? DEFAULT_CONFIG.thp,
      vmacache: o.vmacache ?? DEFAULT_CONFIG.vmacache,
      rwsem: o.rwsemSpinOnOwner === undefined ? (o.rwsem ?? DEFAULT_CONFIG.rwsem) : { ...(o.rwsem ?? DEFAULT_CONFIG.rwsem), spinOnOwner: o.rwsemSpinOnOwner },
      lazyTlb: o.lazyTlb ?? DEFAULT_CONFIG.lazyTlb,
      thpAnonAlign: o.thpAnonAlign ?? DEFAULT_CONFIG.thpAnonAlign,
      munmapDowngrade: o.munmapDowngrade ?? DEFAULT_CONFIG.munmapDowngrade,
      vmaLockAnonVma: o.vmaLockAnonVma ?? DEFAULT_CONFIG.vmaLockAnonVma,
      ...(o.machine.remoteTlbFlush !== undefined ? { remoteTlbFlush: o.machine.remoteTlbFlush } : {}),
      estimates: kernelEstimates((name) => factorOf(p, name)),
      ...(o.mutant !== undefined ? { mutant: o.mutant } : {}),
    },
    o.spf?.(eng),
  );
  kernel = k;
  if (usesValues(o.workload)) {
    k.contents = new PageContents();
    k.alloc.contents = k.contents;
  }
  if (checks) {
    const dbg = new DebugVm(k, counting, typeof o.checkInvariants === 'object' ? o.checkInvariants : {});
    k.dbg = dbg;
    k.alloc.dbg = dbg;
    eng.audit = dbg.audit;
    eng.onTaskExit = (t) => dbg.taskExit(t);
  }
  o.testHook?.(k);
  return new Runner(o, eng, k, counting);
}

/** The result of a run setupRun() built, once its engine has run. */
export function finishRun(r: Runner, o: RunOptions): RunResult {
  // A run stopped early: the tasks still in a phase leave it with what they counted so far.
  r.phases?.leaveAll(r.k.threads);
  const result = collectResult({
    eng: r.eng,
    k: r.k,
    workload: o.workload,
    params: o.params,
    counting: r.counting,
    counters: r.summedCounters(),
    phases: r.phases?.results() ?? [],
    fail: (pos, msg) => r.fail(pos, msg),
    checks: r.k.dbg !== null,
  });
  if (r.eng.sampler instanceof CpuClockSampler) r.eng.sampler.finish(result.elapsedNs, r.eng.tasks);
  // The invariant checks' last scan: every count must agree now that every task has exited.
  r.k.dbg?.scan(!result.stopped);
  return result;
}

/**
 * Run a workload to completion and return what it counted. `sliceItems`: end the engine's step()
 * every that many events, as runWorkloadAsync() does, without handing control back in between
 * (the pool's warm-up, src/pool/run-job.ts); by default it runs in one slice (Engine.run()).
 */
export function runWorkload(o: RunOptions, sliceItems = Infinity): RunResult {
  const r = setupRun(o);
  r.start();
  while (r.eng.step(sliceItems));
  return finishRun(r, o);
}

/** What a long run reports between slices. */
export interface RunProgress {
  /** Simulated time reached (ns). */
  readonly simNs: number;
  /** page-faults so far. */
  readonly faults: number;
}

export interface AsyncRunControl {
  /** Called between slices of simulation (about every `sliceItems` events). */
  onProgress?(p: RunProgress): void;
  /** Checked between slices: true stops the simulation (Ctrl-C); the result is then partial. */
  shouldStop?(): boolean;
  /** Events per slice (default 20000). */
  readonly sliceItems?: number;
  /** Awaited between slices when it returns a promise (output backpressure: record into a slow pipe). */
  pause?(): Promise<void> | undefined;
}

/**
 * runWorkload() in slices, handing control back to the host's event loop in between, so a
 * progress display can redraw and Ctrl-C can stop the run. A stopped run returns what was counted
 * up to then (`stopped: true`), with elapsed time up to the point reached.
 */
export async function runWorkloadAsync(o: RunOptions, c: AsyncRunControl = {}): Promise<RunResult> {
  const r = setupRun(o);
  r.start();
  const slice = c.sliceItems ?? 20000;
  while (r.eng.step(slice)) {
    c.onProgress?.({ simNs: r.eng.now, faults: r.counting.total(EV.PAGE_FAULTS) });
    await new Promise<void>((res) => setImmediate(res));
    const wait = c.pause?.();
    if (wait !== undefined) await wait;
    if (c.shouldStop?.()) {
      r.eng.stop();
      break;
    }
  }
  return finishRun(r, o);
}
