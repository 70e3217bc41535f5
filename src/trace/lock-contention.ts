import type { Task } from '../engine/task.js';
import type { LockWaitee } from '../engine/wait.js';
import { LineStats, type ContentionTracer, type LineStat } from '../engine/lockstat.js';
import { moduleFile } from './bundle-frames.js';

/**
 * The observer behind `spfperf lock contention` (docs/lock.md): the lock primitives of the engine
 * call begin() where a task starts to wait for a lock and end() where it has it (the model's
 * lock:contention_begin / lock:contention_end), and this sums the waits three ways, as perf lock
 * contention aggregates them: by caller (its default), by lock (-l) and by task (-t). The run's
 * cache lines sum their transfers by name into `lines`.
 *
 * The caller is found as perf finds it: from the waiter's call stack, the first function that is
 * not a lock function. The model's kernel code is its JavaScript call stack (kernel paths are
 * generators that call each other with yield*), so begin() reads that stack and skips the
 * engine's lock primitives, this file, and the model's wrappers that the kernel inlines; the
 * function left is named in kernel snake_case (doUserAddrFault -> do_user_addr_fault). Reading a
 * stack costs a few microseconds of host time per wait, and only when this observer is on.
 */

/** One row of a table: a caller, a lock or a task, with its waits. */
export interface ContentionRow {
  /** The caller (by caller), the lock's name (by lock), the task's comm (by task). */
  readonly name: string;
  /** The lock:contention_begin flags (LCB_F_*): the lock's type. */
  readonly flags: number;
  /** By lock: the lock's (made-up) kernel address, 16 hex digits. */
  readonly addr?: string;
  /** By task: its tid. */
  readonly tid?: number;
  contended: number;
  /** Sum, longest and shortest of the waits, in simulated ns. */
  totalNs: number;
  maxNs: number;
  minNs: number;
}

/** What a run's waits came to (LockContentionSink.result()). */
export interface ContentionResult {
  readonly byCaller: readonly ContentionRow[];
  readonly byLock: readonly ContentionRow[];
  readonly byTask: readonly ContentionRow[];
  readonly lines: readonly LineStat[];
}

/**
 * Model functions named otherwise than the kernel function that takes the lock in them (the
 * model's function covers a syscall, or is a class method): that kernel function, as the model's
 * comment at each says it mirrors; null for a function the kernel inlines into its caller (perf
 * sees the caller): mmap_write_lock() and friends are static inline in include/linux/mmap_lock.h.
 * Others are named in snake_case. A design adds its own (DesignDescriptor.lockCallers). Keys are
 * `fn` for a plain function, `Class.method` for a method.
 */
export const KERNEL_CALLER: ReadonlyMap<string, string | null> = new Map([
  ['mmapWriteLock', null],
  ['mmapWriteUnlock', null],
  ['mmapWriteDowngrade', null],
  ['pteMapLock', null], // pte_offset_map_lock(): a macro, spin_lock() in the fault handler
  ['pgtablePopulate', null], // the populate step of __pte_alloc() / __pmd_alloc()
  ['pteAlloc', '__pte_alloc'],
  ['pmdAlloc', '__pmd_alloc'],
  ['sysMmap', 'vm_mmap_pgoff'], // mmap_write_lock_killable() in vm_mmap_pgoff() (mm/util.c)
  ['sysMunmap', '__vm_munmap'], // mm/mmap.c
  ['sysMprotect', 'do_mprotect_pkey'],
  ['sysMremap', '__do_sys_mremap'],
  ['sysMadviseDontneed', 'do_madvise'],
  ['sysMadviseHuge', 'do_madvise'],
  ['sysMadvisePageout', 'do_madvise'],
  ['zapRange', 'zap_pte_range'],
  ['scanMm', 'khugepaged_scan_mm_slot'],
  ['vmaLink', '__vma_link_rb'],
  ['vmaUnlink', '__vma_rb_erase'],
  ['PageAllocator.allocPage', 'rmqueue_bulk'],
  ['PageAllocator.refillPcp', 'rmqueue_bulk'],
  ['PageAllocator.drainPcp', 'free_pcppages_bulk'],
  ['PageAllocator.allocHuge', 'rmqueue'],
  ['PageAllocator.freeHuge', 'free_one_page'],
  ['Lru.drain', '__pagevec_lru_add'],
  ['Lru.remove', 'release_pages'],
  // Named for cpu-clock's call chains (src/trace/cpu-clock.ts): the model's helpers of one kernel function.
  ['DoUserAddrFault.finish', null], // helpers of the step function do_user_addr_fault() (mm/access.ts)
  ['DoUserAddrFault.segv', null],
  ['handleMmFaultAnonFast', '__handle_mm_fault'], // the walk of __handle_mm_fault(), its common case
  ['handleMmFaultWalked', '__handle_mm_fault'],
  ['chargeWalk', null],
  ['findVmaLocked', 'find_vma'],
  ['findVmaCached', 'find_vma'],
  ['clearPage', 'clear_page_erms'], // arch/x86/lib/clear_page_64.S, on CPUs with ERMS
  ['PageAllocator.allocPageFast', 'rmqueue_pcplist'], // the per-CPU list's pop (mm/page_alloc.c)
  ['PageAllocator.take', '__rmqueue_pcplist'],
  ['PageAllocator.freePageFast', 'free_unref_page'],
  ['PageAllocator.refillLocked', null], // rmqueue_bulk()'s work under zone->lock, a helper
  ['PageAllocator.allocAfterRefill', 'rmqueue_pcplist'],
  ['Lru.drainLocked', null], // __pagevec_lru_add()'s work under the lru lock, a helper
  ['PageAllocator.freePagesUntilDrain', null], // tlb_finish_mmu()'s loop of free_unref_page() calls, a helper
]);

/**
 * The engine's lock primitives by name, in case a bundle hides the engine's file names: the
 * classes whose methods they are, and rwsem-spinlock.ts's functions.
 */
const LOCK_CLASSES = new Set(['RwSemaphore', 'SpinLock', 'RwLock', 'LockContentionSink']);
const LOCK_FUNCTIONS = new Set(['spinlockDownRead', 'spinlockDownWrite', 'spinlockRelease', 'spinlockTrylock', 'spinlockDowngrade']);

/** Files of the engine (the lock primitives) and of this one: lock functions, in perf's words. */
const LOCK_FILE = /[\\/](?:src|dist)[\\/](?:engine|trace)[\\/][\w.-]+\.[jt]s$/;

/** A frame of a V8 stack: `at Class.method (file:line:col)` or `at fn (file:line:col)`. */
const FRAME = /^\s*at (?:async )?(?:new )?([\w$.<>*]+) \((.*)\)$/;
/** A frame's location: file, line and column. */
const LOCATION = /^(.*):(\d+):\d+$/;

/** A model function's name in the kernel's snake_case: doUserAddrFault -> do_user_addr_fault. */
export function kernelName(fn: string): string {
  return fn.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** One frame of the waiter's stack, as V8's structured stack trace gives it. */
export interface Frame {
  /** `Class.method` or `fn` (V8's getTypeName() and getMethodName()/getFunctionName()). */
  readonly name: string;
  readonly file: string;
}

/**
 * The caller of the lock wait whose stack these frames are (the first model function past the lock
 * functions and the inlined ones), or 'Unknown'. `names`: KERNEL_CALLER and the designs' own.
 */
export function callerOf(frames: readonly Frame[], names: ReadonlyMap<string, string | null> = KERNEL_CALLER): string {
  for (const f of frames) {
    if (LOCK_FILE.test(f.file)) continue;
    const named = modelFrameName(f, names);
    if (named !== null) return named;
  }
  return 'Unknown';
}

/** `Class.method` or `fn` of a frame, without a generator's `*` (the key of KERNEL_CALLER). */
export function frameKey(f: Frame): string {
  const parts = f.name.replace(/\*/g, '').split('.');
  const fn = parts[parts.length - 1];
  return parts.length > 1 ? `${parts[parts.length - 2]}.${fn}` : fn;
}

/**
 * The kernel name of a model function's frame, or null for a frame that is no function of the
 * model (a generator's resume frame, the engine's lock primitives by class) or one the kernel
 * inlines (null in `names`). Shared by lock contention's caller and cpu-clock's call chains.
 */
export function modelFrameName(f: Frame, names: ReadonlyMap<string, string | null>): string | null {
  // No file: a generator's resume frame (gen.next()), not a function of the model.
  if (f.file === '') return null;
  const full = frameKey(f);
  const dot = full.indexOf('.');
  const fn = dot < 0 ? full : full.slice(dot + 1);
  if (dot >= 0 ? LOCK_CLASSES.has(full.slice(0, dot)) : LOCK_FUNCTIONS.has(fn)) return null;
  if (fn === '' || fn === 'next') return null;
  // A method by Class.method only: a design's pteMapLock is not the plain function of that name.
  const named = names.get(full);
  if (named === null) return null;
  // A step function (StepFrame, engine/task.ts) is the kernel function its class is named for.
  return named ?? kernelName(fn === 'step' && dot >= 0 ? full.slice(0, dot) : fn);
}

/** The frames of a V8 stack trace in text (`at Class.method (file:line:col)`), for tests and tools. */
export function framesOf(stack: string): Frame[] {
  const out: Frame[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (m === null) continue;
    const at = LOCATION.exec(m[2]);
    out.push({ name: m[1], file: m[2] === '<anonymous>' ? '' : at === null ? m[2] : moduleFile(at[1], Number(at[2])) });
  }
  return out;
}

/**
 * The frames of the current stack, past this function's own: read as V8's CallSite objects
 * (Error.prepareStackTrace), which spares formatting the whole trace as text.
 */
export function currentFrames(limit: number): Frame[] {
  const prep = Error.prepareStackTrace;
  const lim = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  Error.prepareStackTrace = (_e, sites: NodeJS.CallSite[]): Frame[] =>
    sites.map((c) => {
      const type = c.getTypeName();
      const fn = c.getFunctionName() ?? c.getMethodName() ?? '';
      const name = type !== null && type !== 'Object' && type !== 'Generator' && !fn.includes('.') ? `${type}.${fn}` : fn;
      const file = c.getFileName() ?? '';
      return { name, file: file === '' ? '' : moduleFile(file, c.getLineNumber() ?? 0) };
    });
  const holder: { stack?: unknown } = {};
  Error.captureStackTrace(holder, currentFrames);
  const frames = holder.stack as Frame[];
  Error.prepareStackTrace = prep;
  Error.stackTraceLimit = lim;
  return frames;
}

/** A lock's name as the kernel calls it: the model's name without its owner's pid (mmap_lock(1000) -> mmap_lock). */
export function lockName(name: string): string {
  return name.replace(/\(\d+\)/g, '');
}

/** Made-up kernel addresses of locks, in the direct map, 64 bytes apart, in the order they were first contended. */
const LOCK_ADDR_BASE = 0x00100000;

/** The made-up address of the n-th lock contended (16 hex digits, as perf prints a lock's). */
export function lockAddr(n: number): string {
  return `ffff8881${(LOCK_ADDR_BASE + n * 0x40).toString(16).padStart(8, '0')}`;
}

/**
 * The waits summed three ways, as perf lock contention aggregates them: by caller (caller and
 * type), by lock (its address) and by task (its tid). Fed by the live observer below and by the
 * reader of a `lock record` trace (src/commands/lock-record.ts).
 */
export class ContentionTable {
  private readonly callers = new Map<string, ContentionRow>();
  private readonly locks = new Map<string, ContentionRow>();
  private readonly tasks = new Map<number, ContentionRow>();

  /** One wait of `ns` by task `tid` (`comm`) for the lock at `addr` (`lock`), from `caller`. */
  add(w: { readonly caller: string; readonly flags: number; readonly addr: string; readonly lock: string; readonly tid: number; readonly comm: string }, ns: number): void {
    const key = `${w.caller}\0${w.flags}`;
    let c = this.callers.get(key);
    if (c === undefined) this.callers.set(key, (c = newRow(w.caller, w.flags)));
    addWait(c, ns);
    let l = this.locks.get(w.addr);
    if (l === undefined) this.locks.set(w.addr, (l = { ...newRow(w.lock, w.flags), addr: w.addr }));
    addWait(l, ns);
    let k = this.tasks.get(w.tid);
    if (k === undefined) this.tasks.set(w.tid, (k = { ...newRow(w.comm, w.flags), tid: w.tid }));
    addWait(k, ns);
  }

  result(lines: readonly LineStat[]): ContentionResult {
    return { byCaller: [...this.callers.values()], byLock: [...this.locks.values()], byTask: [...this.tasks.values()], lines };
  }
}

/** A wait under way, as `lock record` writes its lock:contention_begin. */
export interface WaitBegin {
  readonly t: Task;
  readonly caller: string;
  readonly flags: number;
  /** The lock's made-up address and its kernel name. */
  readonly addr: string;
  readonly lock: string;
}

interface Waiting extends WaitBegin {
  readonly lockObj: LockWaitee;
  readonly since: number;
}

/** Frames kept when a wait's stack is read: enough to reach the model's fault path from a lock's slow path. */
const STACK_FRAMES = 16;

export interface ContentionSinkOptions {
  /** Sum the lines' transfers (default true). */
  readonly lines?: boolean;
  /** The designs' names of their functions (DesignDescriptor.lockCallers), beside KERNEL_CALLER. */
  readonly callers?: ReadonlyMap<string, string | null>;
  /** `lock record`: told each wait as it begins and as it ends (the task's clock is the time). */
  readonly onBegin?: (w: WaitBegin) => void;
  readonly onEnd?: (w: WaitBegin) => void;
}

export class LockContentionSink implements ContentionTracer {
  readonly lines: LineStats | null;
  private readonly waiting = new Map<Task, Waiting>();
  private readonly table = new ContentionTable();
  private readonly addrs = new Map<LockWaitee, string>();
  private readonly names: ReadonlyMap<string, string | null>;

  constructor(private readonly opts: ContentionSinkOptions = {}) {
    this.lines = opts.lines === false ? null : new LineStats();
    this.names = opts.callers !== undefined ? new Map([...KERNEL_CALLER, ...opts.callers]) : KERNEL_CALLER;
  }

  begin(t: Task, lock: LockWaitee, flags: number): void {
    let addr = this.addrs.get(lock);
    if (addr === undefined) this.addrs.set(lock, (addr = lockAddr(this.addrs.size)));
    const w: Waiting = { t, lockObj: lock, flags, since: t.clock, caller: callerOf(currentFrames(STACK_FRAMES), this.names), addr, lock: lockName(lock.name) };
    this.waiting.set(t, w);
    this.opts.onBegin?.(w);
  }

  end(t: Task, lock: LockWaitee): void {
    const w = this.waiting.get(t);
    if (w === undefined || w.lockObj !== lock) return;
    this.waiting.delete(t);
    // Whole ns at each end, as perf's timestamps (and a `lock record` trace's) are.
    this.table.add({ caller: w.caller, flags: w.flags, addr: w.addr, lock: w.lock, tid: t.tid, comm: t.comm }, Math.round(t.clock) - Math.round(w.since));
    this.opts.onEnd?.(w);
  }

  /** The waits so far, and the lines' transfers (waits still open when the run stopped are left out, as perf leaves them). */
  result(): ContentionResult {
    return this.table.result(this.lines?.all() ?? []);
  }
}

function newRow(name: string, flags: number): ContentionRow {
  return { name, flags, contended: 0, totalNs: 0, maxNs: 0, minNs: Infinity };
}

function addWait(r: ContentionRow, ns: number): void {
  r.contended++;
  r.totalNs += ns;
  if (ns > r.maxNs) r.maxNs = ns;
  if (ns < r.minNs) r.minNs = ns;
}
