import type { Task } from '../engine/task.js';
import type { LockWaitee } from '../engine/wait.js';
import { LineStats, type ContentionTracer, type LineStat } from '../engine/lockstat.js';

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
 * Others are named in snake_case. A design adds its own (DesignDescriptor.lockCallers).
 */
export const KERNEL_CALLER: ReadonlyMap<string, string | null> = new Map([
  ['mmapWriteLock', null],
  ['mmapWriteUnlock', null],
  ['mmapWriteDowngrade', null],
  ['sysMmap', 'vm_mmap_pgoff'], // mmap_write_lock_killable() in vm_mmap_pgoff() (mm/util.c)
  ['sysMunmap', '__vm_munmap'], // mm/mmap.c
  ['sysMprotect', 'do_mprotect_pkey'],
  ['sysMremap', '__do_sys_mremap'],
  ['sysMadviseDontneed', 'do_madvise'],
  ['sysMadviseHuge', 'do_madvise'],
  ['sysMadvisePageout', 'do_madvise'],
  ['zapRange', 'zap_pte_range'],
  ['vmaLink', '__vma_link_rb'],
  ['vmaUnlink', '__vma_rb_erase'],
  ['PageAllocator.allocPage', 'rmqueue_bulk'],
  ['PageAllocator.drainPcp', 'free_pcppages_bulk'],
  ['PageAllocator.allocHuge', 'rmqueue'],
  ['PageAllocator.freeHuge', 'free_one_page'],
  ['Lru.drain', '__pagevec_lru_add'],
  ['Lru.remove', 'release_pages'],
]);

/** Classes whose methods are the engine's lock primitives, in case a bundle hides the engine's file names. */
const LOCK_CLASSES = new Set(['RwSemaphore', 'SpinLock', 'RwLock', 'LockContentionSink']);

/** Files of the engine (the lock primitives) and of this one: lock functions, in perf's words. */
const LOCK_FILE = /[\\/](?:src|dist)[\\/](?:engine|trace)[\\/][\w.-]+\.[jt]s$/;

/** A frame of a V8 stack: `at Class.method (file:line:col)` or `at fn (file:line:col)`. */
const FRAME = /^\s*at (?:async )?(?:new )?([\w$.<>*]+) \((.*)\)$/;

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
    // No file: a generator's resume frame (gen.next()), not a function of the model.
    if (f.file === '' || LOCK_FILE.test(f.file)) continue;
    const parts = f.name.replace(/\*/g, '').split('.');
    const fn = parts[parts.length - 1];
    const full = parts.length > 1 ? `${parts[parts.length - 2]}.${fn}` : fn;
    if (parts.length > 1 && LOCK_CLASSES.has(parts[parts.length - 2])) continue;
    if (fn === '' || fn === 'next') continue;
    const named = names.has(full) ? names.get(full) : names.get(fn);
    if (named === null) continue;
    return named ?? kernelName(fn);
  }
  return 'Unknown';
}

/** The frames of a V8 stack trace in text (`at Class.method (file:line:col)`), for tests and tools. */
export function framesOf(stack: string): Frame[] {
  const out: Frame[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (m !== null) out.push({ name: m[1], file: m[2] === '<anonymous>' ? '' : m[2].replace(/:\d+:\d+$/, '') });
  }
  return out;
}

/**
 * The frames of the current stack, past this function's own: read as V8's CallSite objects
 * (Error.prepareStackTrace), which spares formatting the whole trace as text.
 */
function currentFrames(limit: number): Frame[] {
  const prep = Error.prepareStackTrace;
  const lim = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  Error.prepareStackTrace = (_e, sites: NodeJS.CallSite[]): Frame[] =>
    sites.map((c) => {
      const type = c.getTypeName();
      const fn = c.getFunctionName() ?? c.getMethodName() ?? '';
      const name = type !== null && type !== 'Object' && type !== 'Generator' && !fn.includes('.') ? `${type}.${fn}` : fn;
      return { name, file: c.getFileName() ?? '' };
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

interface Waiting {
  readonly lock: LockWaitee;
  readonly flags: number;
  readonly since: number;
  readonly caller: string;
}

/** Frames kept when a wait's stack is read: enough to reach the model's fault path from a lock's slow path. */
const STACK_FRAMES = 16;

export class LockContentionSink implements ContentionTracer {
  readonly lines: LineStats | null;
  private readonly waiting = new Map<Task, Waiting>();
  private readonly callers = new Map<string, ContentionRow>();
  private readonly locks = new Map<LockWaitee, ContentionRow>();
  private readonly tasks = new Map<Task, ContentionRow>();

  private readonly names: ReadonlyMap<string, string | null>;

  /** `lines`: sum the lines' transfers (default true); `callers`: the designs' names of their functions, beside KERNEL_CALLER. */
  constructor(opts: { readonly lines?: boolean; readonly callers?: ReadonlyMap<string, string | null> } = {}) {
    this.lines = opts.lines === false ? null : new LineStats();
    this.names = opts.callers !== undefined ? new Map([...KERNEL_CALLER, ...opts.callers]) : KERNEL_CALLER;
  }

  begin(t: Task, lock: LockWaitee, flags: number): void {
    this.waiting.set(t, { lock, flags, since: t.clock, caller: callerOf(currentFrames(STACK_FRAMES), this.names) });
  }

  end(t: Task, lock: LockWaitee): void {
    const w = this.waiting.get(t);
    if (w === undefined || w.lock !== lock) return;
    this.waiting.delete(t);
    const ns = t.clock - w.since;
    const key = `${w.caller}\0${w.flags}`;
    let c = this.callers.get(key);
    if (c === undefined) this.callers.set(key, (c = newRow(w.caller, w.flags)));
    add(c, ns);
    let l = this.locks.get(lock);
    if (l === undefined) {
      const addr = `ffff8881${(LOCK_ADDR_BASE + this.locks.size * 0x40).toString(16).padStart(8, '0')}`;
      this.locks.set(lock, (l = { ...newRow(lockName(lock.name), w.flags), addr }));
    }
    add(l, ns);
    let k = this.tasks.get(t);
    if (k === undefined) this.tasks.set(t, (k = { ...newRow(t.comm, w.flags), tid: t.tid }));
    add(k, ns);
  }

  /** The waits so far, and the lines' transfers (waits still open when the run stopped are left out, as perf leaves them). */
  result(): ContentionResult {
    return { byCaller: [...this.callers.values()], byLock: [...this.locks.values()], byTask: [...this.tasks.values()], lines: this.lines?.all() ?? [] };
  }
}

function newRow(name: string, flags: number): ContentionRow {
  return { name, flags, contended: 0, totalNs: 0, maxNs: 0, minNs: Infinity };
}

function add(r: ContentionRow, ns: number): void {
  r.contended++;
  r.totalNs += ns;
  if (ns > r.maxNs) r.maxNs = ns;
  if (ns < r.minNs) r.minNs = ns;
}
