import { TaskState, type Task } from '../engine/task.js';
import type { CpuSampler } from '../engine/sampler.js';
import type { ContentionTracer, LineStat } from '../engine/lockstat.js';
import { currentFrames, frameKey, KERNEL_CALLER, lockName, modelFrameName, type Frame } from './lock-contention.js';

/**
 * The model's perf cpu-clock (`spfperf record -e cpu-clock [-g]`, docs/profile.md): each
 * simulated CPU is sampled every `periodNs` of simulated time, as perf's cpu-clock samples each
 * CPU from an hrtimer (kernel/events/core.c, cpu_clock_event_start() and
 * perf_swevent_hrtimer()). A sample is the task on the CPU at that instant, or the idle task
 * (swapper, pid 0) when none is; with call chains, the kernel functions it was in, innermost first,
 * then its user frame.
 *
 * Where the time goes comes from the model: a task's clock advances only by the costs the model
 * charges (Task.cost and Task.stall, called by the kernel function doing the work) and by the
 * engine's waits (a spin until a lock is handed over), so the instants that fall in a charge
 * belong to the function charging it. Task.cost/stall compare the task's clock with the next
 * sample instant of its CPU (one comparison when no sample is due); only when one falls due does
 * this read the JavaScript stack, whose generators are the model's kernel call chain. The names
 * are lock contention's (KERNEL_CALLER, the designs' lockCallers: modelFrameName()), with the
 * engine's lock primitives named as the kernel's (LOCK_FRAMES) and the entry the model does not
 * have as functions added above the outermost one (entryFrames()). Time spent spinning is
 * sampled in the spin's own frames (spinFrames()) above the spinner's stack where its wait ends
 * (the ContentionTracer end() the lock primitives call, or its next charge): the samples of a spin
 * wait for that stack, as do those of a clock that moved without a charge (interrupt time), and
 * a sleep's off-CPU sample (--off-cpu). A stall that paid exactly a line's last transfer (the
 * LineProbe the sampler gives each line name) names the line in a frame of its own.
 */

/** A cpu-clock sample: who ran on `cpu` at `time`, and where. */
export interface CpuSample {
  readonly time: number;
  readonly cpu: number;
  readonly pid: number;
  readonly tid: number;
  readonly comm: string;
  /** Kernel functions, innermost first (empty in user mode); null without call chains. */
  readonly chain: readonly string[] | null;
  /** The user ip (a workload statement's, user-ip.ts), or 0 for a kernel thread and the idle task. */
  readonly userIp: number;
  /**
   * An off-CPU sample (perf record --off-cpu's offcpu-time): the task slept from `time` for this
   * many ns, having left `cpu`; its chain is where it went to sleep. Absent for a cpu-clock sample.
   */
  readonly offNs?: number;
}

export interface CpuClockOptions {
  /** Nanoseconds of simulated time between two samples of a CPU (perf's -c; 1e9 / -F). */
  readonly periodNs: number;
  /** Record call chains (-g). */
  readonly callchain: boolean;
  readonly ncpus: number;
  /** The designs' names of their functions (DesignDescriptor.lockCallers), beside KERNEL_CALLER. */
  readonly callers?: ReadonlyMap<string, string | null>;
  /** The user ip of a task's current statement, or 0 (a kernel thread). */
  readonly userIp: (t: Task) => number;
  /**
   * Whether the recording goes on: perf record of a workload stops when it exits, so a kernel
   * thread's wake-up after the end is not sampled, nor the idle time before it (default: always).
   */
  readonly recording?: () => boolean;
  /** Also an off-CPU sample for each time a task sleeps (blocks), when it runs again. */
  readonly offCpu?: boolean;
  readonly onSample: (s: CpuSample) => void;
}

/** A task's own frames as it goes to sleep: schedule() -> __schedule() (kernel/sched/core.c), innermost first. */
const SCHEDULE_FRAMES: readonly string[] = ['__schedule', 'schedule'];
/** The idle task's chain on an x86-64 CPU that is not the boot CPU (kernel/sched/idle.c, 6.x). */
export const IDLE_CHAIN: readonly string[] = ['default_idle', 'default_idle_call', 'do_idle', 'cpu_startup_entry', 'start_secondary', 'common_startup_64'];

/**
 * The engine's lock primitives as the kernel names them (kernel/locking/rwsem.c, spinlock.c,
 * qrwlock.c; include/linux/spinlock_api_smp.h): lock contention skips them to find a caller, a
 * call chain shows them. Helpers the kernel inlines are left out (absent here: skipped).
 */
const LOCK_FRAMES: ReadonlyMap<string, string> = new Map([
  ['RwSemaphore.downRead', 'down_read'],
  ['RwSemaphore.downReadFast', 'down_read'],
  ['RwSemaphore.downReadSlowpath', 'rwsem_down_read_slowpath'],
  ['RwSemaphore.downWrite', 'down_write'],
  ['RwSemaphore.downWriteSlowpath', 'rwsem_down_write_slowpath'],
  ['RwSemaphore.downReadTrylock', 'down_read_trylock'],
  ['RwSemaphore.downWriteTrylock', 'down_write_trylock'],
  ['RwSemaphore.downgradeWrite', 'downgrade_write'],
  ['RwSemaphore.upRead', 'up_read'],
  ['RwSemaphore.upReadFast', 'up_read'],
  ['RwSemaphore.upWrite', 'up_write'],
  ['RwSemaphore.grantReaders', 'rwsem_mark_wake'],
  ['SpinLock.lock', '_raw_spin_lock'],
  ['SpinLock.lockFast', '_raw_spin_lock'],
  ['SpinLock.trylock', '_raw_spin_trylock'],
  ['SpinLock.unlock', '_raw_spin_unlock'],
  ['SpinLock.unlockFast', '_raw_spin_unlock'],
  ['RwLock.readLock', '_raw_read_lock'],
  ['RwLock.writeLock', '_raw_write_lock'],
  ['RwLock.readUnlock', '_raw_read_unlock'],
  ['RwLock.writeUnlock', '_raw_write_unlock'],
  ['spinlockDownRead', 'down_read'],
  ['spinlockDownWrite', 'down_write'],
  ['spinlockRelease', 'up_read'],
]);

/**
 * The frames of a spin, innermost first, by what the spinner waited for (its WaitReason's `fn`
 * and `mode`): queued_spin_lock_slowpath() (kernel/locking/qspinlock.c; a ticket lock spins in
 * the inlined arch_spin_lock()), the qrwlock's slow paths (qrwlock.c), an rwsem's optimistic spin
 * on its owner (rwsem.c: rwsem_optimistic_spin() -> rwsem_spin_on_owner()).
 */
function spinFrames(fn: string, mode: string, ticket: boolean): readonly string[] {
  if (mode === 'spin') return ticket ? ['_raw_spin_lock'] : ['native_queued_spin_lock_slowpath', '_raw_spin_lock'];
  if (fn === 'read_lock') return ['queued_read_lock_slowpath', '_raw_read_lock'];
  if (fn === 'write_lock') return ['queued_write_lock_slowpath', '_raw_write_lock'];
  if (fn === 'down_read') return ['rwsem_spin_on_owner', 'rwsem_optimistic_spin', 'rwsem_down_read_slowpath', 'down_read'];
  return ['rwsem_spin_on_owner', 'rwsem_optimistic_spin', 'rwsem_down_write_slowpath', 'down_write'];
}

/**
 * The x86-64 entry above the model's outermost kernel function (arch/x86/entry, arch/x86/mm/fault.c):
 * a fault enters through asm_exc_page_fault -> exc_page_fault -> do_user_addr_fault (handled
 * inline as handle_page_fault()), a syscall through entry_SYSCALL_64 -> do_syscall_64 ->
 * __x64_sys_NAME. By the outermost frame's kernel name.
 */
function entryFrames(outer: string): readonly string[] {
  if (outer === 'do_user_addr_fault') return ['exc_page_fault', 'asm_exc_page_fault'];
  return outer.startsWith('__x64_sys_') ? ['do_syscall_64', 'entry_SYSCALL_64_after_hwframe'] : [];
}

/**
 * Kernel functions the model's fault path calls through without a function of its own, between an
 * inner and an outer frame: do_user_addr_fault() calls handle_mm_fault(), which calls
 * __handle_mm_fault() (mm/memory.c), where the model's do_user_addr_fault() runs the common case
 * itself.
 */
function impliedBetween(inner: string, outer: string): readonly string[] {
  if (outer === 'do_user_addr_fault') return inner === '__handle_mm_fault' ? ['handle_mm_fault'] : inner.startsWith('do_') && inner.endsWith('_page') ? ['__handle_mm_fault', 'handle_mm_fault'] : [];
  if (outer === 'handle_mm_fault' && inner !== '__handle_mm_fault') return ['__handle_mm_fault'];
  return [];
}

/** The model's syscall functions and the syscall each is (their kernel names come from KERNEL_CALLER). */
const SYSCALLS: ReadonlyMap<string, string> = new Map([
  ['sysMmap', 'mmap'],
  ['sysMunmap', 'munmap'],
  ['sysMprotect', 'mprotect'],
  ['sysMremap', 'mremap'],
  ['sysMadviseDontneed', 'madvise'],
  ['sysMadviseHuge', 'madvise'],
  ['sysMadvisePageout', 'madvise'],
]);

/** A kernel thread's chain ends in kthread() and ret_from_fork (kernel/kthread.c, arch/x86/entry/entry_64.S). */
const KTHREAD_FRAMES: readonly string[] = ['kthread', 'ret_from_fork', 'ret_from_fork_asm'];

/** Files of the engine (lock primitives and the clock), of this layer, and of the interpreter (user mode). */
const ENGINE_FILE = /[\\/](?:src|dist)[\\/](?:engine|trace)[\\/][\w.-]+\.[jt]s$/;
const USER_FILE = /[\\/](?:src|dist)[\\/]sim[\\/][\w.-]+\.[jt]s$/;
/** Stack frames read per sample: the deepest kernel path of the model is well within. */
const STACK_FRAMES = 48;

/**
 * The kernel chain of a stack (innermost first), as a sample shows it: the engine's lock
 * primitives named as the kernel's, the model's functions as lock contention names them, up to the
 * first frame of the interpreter (user mode), then the entry. `user`: the task is a user thread.
 */
export function chainOf(frames: readonly Frame[], names: ReadonlyMap<string, string | null>, user: boolean): string[] {
  const out: string[] = [];
  let outer = '';
  for (const f of frames) {
    if (USER_FILE.test(f.file)) break;
    let name: string | null;
    if (ENGINE_FILE.test(f.file)) name = LOCK_FRAMES.get(frameKey(f)) ?? null;
    else {
      name = modelFrameName(f, names);
      const sys = SYSCALLS.get(frameKey(f));
      if (sys !== undefined) {
        if (name !== null && name !== out[out.length - 1]) out.push(name);
        name = `__x64_sys_${sys}`;
      }
    }
    if (name === null || name === out[out.length - 1]) continue; // a helper of one kernel function
    if (out.length > 0) out.push(...impliedBetween(out[out.length - 1], name));
    out.push(name);
    outer = name;
  }
  if (!user) out.push(...KTHREAD_FRAMES);
  else out.push(...entryFrames(outer));
  return out;
}

interface Owed {
  /** Sample instants (ns) and their CPUs, waiting for the task's next stack. */
  readonly times: number[];
  readonly cpus: number[];
  /** Frames above the stack for each (a spin's), or null. */
  readonly tops: (readonly string[] | null)[];
}

export class CpuClockSampler implements CpuSampler, ContentionTracer {
  /** Per CPU: its next sample instant not yet taken. */
  private readonly next: Float64Array;
  private readonly names: ReadonlyMap<string, string | null>;
  /** Per task: samples owed to it that wait for its next stack (a spin, a clock moved without a charge). */
  private readonly owed = new Map<Task, Owed>();
  /** Per task: the spin that ended (its frames and end), for the samples owed to it. */
  private readonly spins = new Map<Task, { readonly from: number; readonly until: number; readonly frames: readonly string[] }>();
  /** Per task: its switch to the idle task as it went to sleep (switchedOut()), from and until. */
  private readonly switches = new Map<Task, { readonly from: number; readonly until: number }>();
  /** Per task: its last chain, for samples owed when the run ends. */
  private readonly last = new Map<Task, readonly string[]>();
  /** Per task asleep: since when, and the CPU it left (off-CPU samples). */
  private readonly asleep = new Map<Task, { readonly since: number; readonly cpu: number }>();
  /** Per task back on a CPU: its sleep, waiting for its stack (where the sleep ends, in the function that slept). */
  private readonly slept = new Map<Task, { readonly since: number; readonly cpu: number; readonly ns: number }>();
  /** Samples taken. */
  count = 0;
  /** The line that made the last transfer (its latency in lastNs), or null. */
  lastLine: LineProbe | null = null;
  private readonly probes = new Map<string, LineProbe>();
  private readonly recording: () => boolean;

  constructor(private readonly o: CpuClockOptions) {
    if (!(o.periodNs >= 1)) throw new RangeError(`cpu-clock period ${o.periodNs} ns`);
    this.next = new Float64Array(o.ncpus).fill(o.periodNs);
    this.recording = o.recording ?? ((): boolean => true);
    this.names = o.callers !== undefined ? new Map([...KERNEL_CALLER, ...o.callers]) : KERNEL_CALLER;
  }

  onCpu(t: Task): void {
    const cpu = t.cpu;
    const z = this.asleep.get(t);
    if (z !== undefined) {
      this.asleep.delete(t);
      // A sleep past the end of the recording is cut there (finish() writes it).
      if (this.recording()) this.slept.set(t, { ...z, ns: t.clock - z.since });
      else this.asleep.set(t, z);
    }
    if (this.next[cpu] >= t.clock) {
      t.sampleAt = this.next[cpu];
      return;
    }
    if (!this.recording()) {
      t.sampleAt = Infinity;
      return;
    }
    // The CPU was idle (or switching) until now: the idle task's samples.
    let s = this.next[cpu];
    for (; s < t.clock; s += this.o.periodNs) this.emit(s, cpu, 0, 0, 'swapper', this.o.callchain ? IDLE_CHAIN : null, 0);
    this.next[cpu] = s;
    t.sampleAt = s;
  }

  offCpu(t: Task): void {
    this.owe(t, t.cpu, t.clock);
    t.sampleAt = Infinity;
    // perf's --off-cpu counts sleeps (a task switched out not runnable), not preemptions or exits.
    if (this.o.offCpu === true && t.state === TaskState.Blocked && this.recording()) this.asleep.set(t, { since: t.clock, cpu: t.cpu });
  }

  spun(t: Task, until: number): void {
    const w = t.wait;
    if (w === null || w.kind !== 'lock' || until <= t.clock) return;
    this.spins.set(t, { from: t.clock, until, frames: spinFrames(w.fn, w.mode, t.eng.ticketSpinlocks) });
  }

  switchedOut(t: Task, until: number): void {
    if (until > t.clock) this.switches.set(t, { from: t.clock, until });
  }

  charge(t: Task, from: number, stall: boolean): void {
    const cpu = t.cpu;
    if (cpu < 0) return;
    if (!this.recording()) {
      t.sampleAt = Infinity;
      return;
    }
    this.owe(t, cpu, from);
    let chain = this.o.callchain ? this.chain(t) : null;
    this.settle(t, chain);
    // A stall of exactly the last transfer's latency waited for that line: a frame of its own.
    const line = this.lastLine;
    if (chain !== null && stall && line !== null && Math.abs(t.clock - from - line.lastNs) <= 1e-6 * line.lastNs) chain = [`cacheline(${line.kname})`, ...chain];
    const ip = this.o.userIp(t);
    let s = this.next[cpu];
    for (; s < t.clock; s += this.o.periodNs) this.emit(s, cpu, t.pid, t.tid, t.comm, chain, ip);
    this.next[cpu] = s;
    t.sampleAt = s;
  }

  /** The samples of `cpu` before `until` not taken yet, owed by `t` to its next stack. */
  private owe(t: Task, cpu: number, until: number): void {
    if (this.next[cpu] >= until || !this.recording()) return;
    let o = this.owed.get(t);
    if (o === undefined) this.owed.set(t, (o = { times: [], cpus: [], tops: [] }));
    const spin = this.spins.get(t);
    const sw = this.switches.get(t);
    for (let s = this.next[cpu]; s < until; s += this.o.periodNs) {
      o.times.push(s);
      o.cpus.push(cpu);
      o.tops.push(spin !== undefined && s >= spin.from && s < spin.until ? spin.frames : sw !== undefined && s >= sw.from && s < sw.until ? SCHEDULE_FRAMES : null);
      this.next[cpu] = s + this.o.periodNs;
    }
  }

  /** Emit what `t` owes with `chain` (its stack now) under each sample's own top frames. */
  private settle(t: Task, chain: readonly string[] | null): void {
    this.spins.delete(t);
    this.switches.delete(t);
    const z = this.slept.get(t);
    if (z !== undefined) {
      this.slept.delete(t);
      // The sleep went through schedule() -> __schedule() (kernel/sched/core.c).
      this.o.onSample({ time: z.since, cpu: z.cpu, pid: t.pid, tid: t.tid, comm: t.comm, chain: chain === null ? null : [...SCHEDULE_FRAMES, ...chain], userIp: this.o.userIp(t), offNs: z.ns });
    }
    const o = this.owed.get(t);
    if (o === undefined) return;
    this.owed.delete(t);
    const ip = this.o.userIp(t);
    for (let i = 0; i < o.times.length; i++) this.emit(o.times[i], o.cpus[i], t.pid, t.tid, t.comm, chain === null ? null : withTop(o.tops[i], chain), ip);
  }

  /**
   * ContentionTracer: a lock wait ends where the waiter has the lock, in the lock function, with
   * the stack of the wait: the samples of its spin (owed since the spin ended) take that stack.
   */
  readonly lines = null;
  begin(): void {}
  end(t: Task): void {
    if ((this.owed.has(t) || this.slept.has(t)) && t.cpu >= 0) this.settle(t, this.o.callchain ? this.chain(t) : null);
  }

  lineStat(name: string): LineStat | null {
    if (!this.o.callchain) return null;
    let p = this.probes.get(name);
    if (p === undefined) this.probes.set(name, (p = new LineProbe(name, this)));
    return p;
  }

  private chain(t: Task): readonly string[] {
    const user = (t.ctx as { kernel?: boolean } | null)?.kernel !== true;
    // In user mode the task runs the workload's statement: no kernel frame.
    const c = !t.inKernel ? [] : chainOf(currentFrames(STACK_FRAMES), this.names, user);
    this.last.set(t, c);
    return c;
  }

  private emit(time: number, cpu: number, pid: number, tid: number, comm: string, chain: readonly string[] | null, userIp: number): void {
    this.count++;
    this.o.onSample({ time, cpu, pid, tid, comm, chain, userIp });
  }

  /**
   * The run ended at `endNs`: samples still owed go out with the task's last chain, and the CPUs
   * idle at the end are sampled as idle up to it.
   */
  finish(endNs: number, tasks: readonly Task[]): void {
    // Tasks still asleep at the end: their sleep up to it, where they last ran (perf writes those at the end too).
    for (const [t, z] of this.asleep) if (z.since < endNs) this.slept.set(t, { ...z, ns: endNs - z.since });
    this.asleep.clear();
    const lastChain = (t: Task): readonly string[] => this.last.get(t) ?? ((t.ctx as { kernel?: boolean } | null)?.kernel === true ? KTHREAD_FRAMES : []);
    for (const t of tasks) if (this.owed.has(t) || this.slept.has(t)) this.settle(t, this.o.callchain ? lastChain(t) : null);
    for (let cpu = 0; cpu < this.o.ncpus; cpu++) {
      if (tasks.some((t) => t.cpu === cpu)) continue;
      for (let s = this.next[cpu]; s < endNs; s += this.o.periodNs) this.emit(s, cpu, 0, 0, 'swapper', this.o.callchain ? IDLE_CHAIN : null, 0);
    }
  }
}

/** A spin's frames above the chain of the stack that followed it, the frames both have once. */
function withTop(top: readonly string[] | null, chain: readonly string[]): readonly string[] {
  // A sleep the model takes in user mode (a join: pthread_join()'s futex wait is not modelled as
  // a syscall) has no kernel chain to put its switch to idle on: its samples stay the user's.
  if (top === null || (chain.length === 0 && top === SCHEDULE_FRAMES)) return chain;
  let i = 0;
  while (i < chain.length && top.includes(chain[i])) i++;
  return [...top, ...chain.slice(i)];
}

/**
 * The LineStat a sampler gives the lines of one name (CpuSampler.lineStat): each transfer adds its
 * wait to waitNs, and this notes the line and that wait as the last transfer made, which the
 * stall that pays it follows at once (`line.writeBy(t)`).
 */
class LineProbe implements LineStat {
  transfers = 0;
  queuedNs = 0;
  maxNs = 0;
  /** The latency of this line's last transfer. */
  lastNs = 0;
  private sum = 0;
  /** The line's kernel name (without its owner's pid). */
  readonly kname: string;

  constructor(
    readonly name: string,
    private readonly sampler: CpuClockSampler,
  ) {
    this.kname = lockName(name);
  }

  get waitNs(): number {
    return this.sum;
  }

  set waitNs(v: number) {
    this.lastNs = v - this.sum;
    this.sum = v;
    this.sampler.lastLine = this;
  }
}
