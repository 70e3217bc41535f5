import { Engine, PREEMPT, SYNC, TaskState, type Code, type Task } from '../engine/engine.js';
import { Barrier } from '../engine/locks.js';
import { Topology } from '../engine/topology.js';
import type { ArchProfile } from '../config/arch.js';
import type { Machine } from '../config/machine.js';
import type { VmaCacheKind } from '../config/kconfig.js';
import { EV } from '../events/catalog.js';
import { CountingSink, Emitter, type TraceSink } from '../trace/sink.js';
import { Kernel, Process, Thread } from '../mm/kernel.js';
import { doUserAddrFault, leafFor, syncMmRss, type FaultOutcome } from '../mm/fault.js';
import { khugepaged, workloadAlive } from '../mm/khugepaged.js';
import { dupMmap, exitMmap, sysMadviseDontneed, sysMadviseHuge, sysMmap, sysMprotect, sysMremap, sysMunmap } from '../mm/mmap.js';
import { sysMadvisePageout } from '../mm/swap.js';
import type { SpfStrategy } from '../mm/spf/registry.js';
import { PTE_DIRTY, PTE_HASHED, PTE_PRESENT, PTE_WRITE, SIGSEGV, VM_GROWSDOWN, VM_EXEC, VM_READ, VM_WRITE } from '../mm/types.js';
import { evalExpr, ExprEvalError, type ExprScope } from '../workload/expr.js';
import type { Expr, Pos, Prot, Stmt, Workload } from '../workload/ir.js';
import { syntaxError } from '../workload/source.js';
import { SimulationError } from '../errors.js';

/**
 * Runs a workload's IR on the model: one engine task per workload thread, each interpreting its
 * statements and entering the kernel model for every syscall and every fault.
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
   * so far (a CountingSink: take the difference from the previous call for per-interval counts).
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
  readonly rwsemSpinOnOwner?: boolean;
  readonly lazyTlb?: 'ipi' | 'skip';
  readonly onInterval?: (timeNs: number, counts: CountingSink) => void;
}

export interface ThreadResult {
  readonly idx: number;
  readonly tid: number;
  readonly pid: number;
  readonly comm: string;
  readonly userNs: number;
  readonly sysNs: number;
}

export interface MetricResult {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

export interface SignalResult {
  readonly pid: number;
  readonly comm: string;
  readonly signal: number;
  readonly detail: string;
}

export interface RunResult {
  readonly elapsedNs: number;
  readonly userNs: number;
  readonly sysNs: number;
  readonly counts: CountingSink;
  readonly threads: readonly ThreadResult[];
  readonly metrics: readonly MetricResult[];
  readonly counters: ReadonlyMap<string, number>;
  readonly signals: readonly SignalResult[];
  /** True when the run was stopped before the workload finished (Ctrl-C). */
  readonly stopped: boolean;
}

/** How far a task in user mode may run ahead of the others before it syncs. */
const USER_QUANTUM_NS = 2000;
/** Engine lookahead for workload runs: below one socket-local cache-line transfer (~70 ns). */
const LOOKAHEAD_NS = 0;
/** A fake text address for the user instruction a statement stands for (perf's ip field). */
const TEXT_BASE = 0x401000;

function protFlags(p: Prot): number {
  return (p.read ? VM_READ : 0) | (p.write ? VM_WRITE : 0) | (p.exec ? VM_EXEC : 0);
}

interface Region {
  start: number;
  len: number;
}

/** Variables of a thread: its own, then its creator's (threads share the address space). */
class Env {
  readonly vars = new Map<string, number>();
  readonly regions = new Map<string, Region>();
  /** The task whose clock `now` reads (set for a thread's own environment). */
  task: Task | null = null;
  constructor(
    readonly parent: Env | null,
    readonly builtins: Map<string, number>,
  ) {}
  /** The task of this environment or the nearest enclosing one. */
  owner(): Task | null {
    for (let e: Env | null = this; e !== null; e = e.parent) if (e.task !== null) return e.task;
    return null;
  }
  region(name: string): Region | undefined {
    for (let e: Env | null = this; e !== null; e = e.parent) {
      const r = e.regions.get(name);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  variable(name: string): number | undefined {
    for (let e: Env | null = this; e !== null; e = e.parent) {
      const v = e.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

/** A loop being run: its limits and progress. */
interface LoopState {
  readonly countLimit: number;
  readonly dur: number;
  readonly start: number;
  iter: number;
  lastSync: number;
}

/** A block being run: its statements, the next one, and the loop it belongs to (if any). */
interface Frame {
  readonly stmts: readonly Stmt[];
  i: number;
  readonly loop: LoopState | null;
}

/** Does a loop start iteration `iter` at time `now`? (The time limit is checked before each.) */
function loopGoesOn(l: LoopState, now: number, iter: number): boolean {
  return iter < l.countLimit && now - l.start < l.dur;
}

/** Signals a thread's interpreter uses to unwind when its process dies. */
/** A touch statement in progress (see Runner.touchBegin). */
interface TouchState {
  readonly s: Extract<Stmt, { k: 'touch' }>;
  readonly base: number;
  readonly write: boolean;
  readonly random: boolean;
  readonly ps: number;
  readonly step: number;
  readonly n: number;
  readonly pagesInRange: number;
  readonly ip: number;
  i: number;
  addr: number;
  lastSync: number;
}

class Killed {
  constructor(readonly signal: number) {}
}

class Runner {
  readonly eng: Engine;
  readonly k: Kernel;
  readonly counting = new CountingSink();
  /** Threads waiting at a barrier, and which one. */
  private readonly atBarrier = new Map<Thread, Barrier>();
  private nextIdx = 0;

  constructor(readonly o: RunOptions) {
    const topo = new Topology(o.machine.topology, { ...o.arch.lineLatencies, ...o.machine.lineLatencies }, o.ncpus);
    const c = o.arch.costs;
    this.eng = new Engine(topo, { contextSwitchNs: c.contextSwitchNs, wakeupNs: c.wakeupNs, ttwuNs: c.ttwuNs, smtThroughput: c.smtThroughput, timesliceNs: 3_000_000, jitter: 0.02 }, o.seed);
    const em = new Emitter([this.counting, ...(o.sinks ?? [])]);
    this.eng.lookahead = LOOKAHEAD_NS;
    this.k = new Kernel(
      this.eng,
      o.arch,
      em,
      { memoryBytes: o.machine.memoryBytes, ioLatencyNs: o.machine.ioLatencyNs, writebackBytesPerNs: o.machine.writebackBytesPerNs ?? 0.5, faultCompleted: o.faultCompleted ?? false, thp: o.thp ?? 'madvise', vmacache: o.vmacache ?? 'none', rwsemSpinOnOwner: o.rwsemSpinOnOwner ?? true, lazyTlb: o.lazyTlb ?? 'skip' },
      o.spf?.(this.eng),
    );
  }

  private fail(pos: Pos, msg: string): never {
    const w = this.o.workload;
    throw new SimulationError(syntaxError(w.file, w.source, pos, msg).render());
  }

  scope(env: Env): ExprScope {
    return {
      param: (name, pos) => {
        const b = env.builtins.get(name);
        if (b !== undefined) return b;
        const p = this.o.params.get(name);
        if (p === undefined) this.fail(pos, `unknown parameter '$${name}'`);
        return p;
      },
      variable: (name, pos) => {
        const v = env.variable(name);
        if (v !== undefined) return v;
        // `now`: the task's simulated time, in seconds.
        if (name === 'now') return (env.owner()?.clock ?? 0) / 1e9;
        this.fail(pos, `'${name}' has no value here`);
      },
      pages: (name, pos) => {
        const r = env.region(name);
        if (r === undefined) this.fail(pos, `region '${name}' is not mapped here`);
        return Math.ceil(r.len / this.k.pageSize);
      },
    };
  }

  ev(e: Expr, env: Env): number {
    try {
      return evalExpr(e, this.scope(env));
    } catch (err) {
      if (err instanceof ExprEvalError) this.fail(err.pos, err.message);
      throw err;
    }
  }

  newThread(proc: Process, tid: number, comm: string): Thread {
    const th = new Thread(this.k, proc, this.nextIdx++, tid, comm);
    proc.threads.push(th);
    this.k.threads.push(th);
    proc.mm.users++;
    return th;
  }

  spawnThread(th: Thread, at: number, affinity: number, body: (th: Thread) => Code, env?: Env): Task {
    const task = this.eng.spawn(th.tid, th.pid, th.comm, at, () => body(th), affinity);
    th.t = task;
    task.ctx = th;
    if (env !== undefined) env.task = task;
    return task;
  }

  start(): void {
    const w = this.o.workload;

    const every = this.o.intervalNs;
    const cb = this.o.onInterval;
    if (every !== undefined && every > 0 && cb !== undefined) {
      const tick = (time: number): void => {
        this.eng.at(time, () => {
          // Only while some task still has work: the last partial interval is the caller's.
          if (!workloadAlive(this.k)) return;
          cb(time, this.counting);
          tick(time + every);
        });
      };
      tick(every);
    }
    for (const decl of w.processes) {
      const rootEnv = new Env(null, new Map([['ncpus', this.o.ncpus], ['seed', this.o.seed], ['tid', 0], ['nthreads', 1]]));
      const n = this.ev(decl.count, rootEnv);
      for (let i = 0; i < n; i++) {
        const proc = this.k.newProcess(decl.name);
        const th = this.newThread(proc, proc.pid, decl.name);
        const env = new Env(null, new Map([...rootEnv.builtins, ['pid', proc.pid], ['tid', 0], ['nthreads', 1]]));
        this.spawnThread(th, 0, -1, (t) => this.threadMain(t, decl.body, env, null), env);
      }
    }
    // khugepaged: a kernel thread, created after the workload's tasks (so their ids come first).
    const kh = this.o.khugepaged;
    if (kh) {
      const proc = this.k.newProcess('khugepaged');
      const th = this.newThread(proc, proc.pid, 'khugepaged');
      th.kernel = true;
      this.spawnThread(th, 0, -1, (t) => khugepaged(t, kh.sleepMs * 1e6, kh.pages, () => workloadAlive(this.k)));
    }
  }

  /**
   * A thread's life: run its statements, then exit (fold its RSS cache, drop the mm). The
   * statement interpreter lives in this one generator (blocks, loops and ifs on an explicit
   * frame stack), so a yield deep in the kernel model unwinds through few generator levels.
   */
  private *threadMain(th: Thread, body: readonly Stmt[], env: Env, barrier: Barrier | null): Code {
    const t = th.t;
    try {
      const stack: Frame[] = [{ stmts: body, i: 0, loop: null }];
      while (stack.length > 0) {
        const f = stack[stack.length - 1];
        if (f.i >= f.stmts.length) {
          const l = f.loop;
          if (l !== null && loopGoesOn(l, t.clock, ++l.iter)) {
            // The back edge of a loop is where a user-mode thread may be preempted.
            if (t.clock - l.lastSync > USER_QUANTUM_NS) {
              yield* this.userSync(th);
              l.lastSync = t.clock;
            }
            f.i = 0;
            continue;
          }
          stack.pop();
          continue;
        }
        const s = f.stmts[f.i++];
        this.checkAlive(th);
        switch (s.k) {
          case 'loop': {
            const times = s.times !== undefined ? Math.floor(this.ev(s.times, env)) : 0;
            const l: LoopState = {
              countLimit: s.times !== undefined && (times > 0 || s.duration === undefined) ? times : Infinity,
              dur: s.duration !== undefined ? this.ev(s.duration, env) : Infinity,
              start: t.clock,
              iter: 0,
              lastSync: t.clock,
            };
            if (loopGoesOn(l, t.clock, 0)) stack.push({ stmts: s.body, i: 0, loop: l });
            break;
          }
          case 'if':
            if (this.ev(s.cond, env) !== 0) stack.push({ stmts: s.then, i: 0, loop: null });
            else if (s.else !== undefined) stack.push({ stmts: s.else, i: 0, loop: null });
            break;
          case 'touch': {
            // The hot statement, run here so that a fault's yields stay shallow.
            const st = this.touchBegin(th, s, env);
            if (st.n > 0) {
              do {
                for (let attempt = 0; !this.touchAccess(th, st); attempt++) {
                  const out = yield* doUserAddrFault(th, st.addr, st.write, st.ip);
                  this.touchFaulted(th, st, out, attempt);
                }
                if (t.clock - st.lastSync > USER_QUANTUM_NS) {
                  yield* this.userSync(th);
                  st.lastSync = t.clock;
                }
              } while (this.touchNext(st));
            }
            this.touchEnd(th, st);
            break;
          }
          default:
            yield* this.leaf(th, s, env, barrier);
        }
      }
    } catch (e) {
      if (!(e instanceof Killed)) throw e;
    }
    t.enterKernel();
    yield* syncMmRss(th);
    // exit_mm(): the last thread out tears the address space down (exit_mmap).
    if (--th.mm.users === 0 && this.o.keepAddressSpaces !== true) yield* exitMmap(th);
    t.exitKernel();
  }

  /** A fatal signal: the whole process dies; siblings waiting at a barrier are woken to exit. */
  private kill(th: Thread, why: NonNullable<Process['killedBy']>): void {
    th.proc.killedBy = why;
    for (const sib of th.proc.threads) {
      const b = this.atBarrier.get(sib);
      if (b !== undefined) b.cancel(sib.t, th.t.clock);
    }
  }

  private checkAlive(th: Thread): void {
    const k = th.proc.killedBy;
    if (k !== null) throw new Killed(k.signal);
  }

  private *userSync(th: Thread): Code {
    const t = th.t;
    this.eng.absorbIrq(t);
    if (this.eng.shouldPreempt(t)) yield PREEMPT;
    else yield SYNC;
    this.checkAlive(th);
  }

  /** A statement with no body of its own (or one that runs in other threads). */
  private *leaf(th: Thread, s: Stmt, env: Env, barrier: Barrier | null): Code {
    const t = th.t;
    const k = this.k;
    switch (s.k) {
      case 'threads': {
        const n = Math.max(0, Math.floor(this.ev(s.count, env)));
        const group = new Barrier(this.eng, `barrier@${s.pos.line}`, n);
        const tasks: Task[] = [];
        for (let i = 0; i < n; i++) {
          // clone(): the parent pays for each new thread in kernel mode.
          t.enterKernel();
          t.cost(k.costs.cloneNs);
          t.exitKernel();
          yield SYNC;
          const child = this.newThread(th.proc, k.allocPid(), th.proc.comm);
          const cenv = new Env(env, new Map([...env.builtins, ['tid', i], ['nthreads', n]]));
          const affinity = s.pin ? i % this.o.ncpus : -1;
          tasks.push(this.spawnThread(child, t.clock, affinity, (c) => this.threadMain(c, s.body, cenv, group), cenv));
        }
        for (const c of tasks) yield* this.eng.join(t, c);
        return;
      }
      case 'let':
        env.vars.set(s.name, this.ev(s.value, env));
        return;
      case 'sleep':
        yield* this.eng.sleep(t, Math.max(0, this.ev(s.ns, env)), 'nanosleep');
        return;
      case 'fork': {
        const n = s.count !== undefined ? Math.max(0, Math.floor(this.ev(s.count, env))) : 1;
        const kids: Task[] = [];
        for (let i = 0; i < n; i++) {
          // fork(): copy the task (clone cost), then the address space (dup_mmap).
          t.enterKernel();
          t.cost(k.costs.cloneNs);
          const proc = k.newProcess(th.proc.comm);
          yield* dupMmap(th, proc.mm);
          t.exitKernel();
          const child = this.newThread(proc, proc.pid, proc.comm);
          const cenv = new Env(env, new Map([...env.builtins, ['pid', proc.pid], ['tid', 0], ['nthreads', 1]]));
          kids.push(this.spawnThread(child, t.clock, -1, (c) => this.threadMain(c, s.body, cenv, null), cenv));
        }
        for (const c of kids) yield* this.eng.join(t, c);
        return;
      }
      case 'madvise': {
        const [a, len] = this.part(s.region, s.offset, s.length, env, s.pos);
        const r =
          s.advice === 'dontneed' ? yield* sysMadviseDontneed(th, a, len)
          : s.advice === 'pageout' ? yield* sysMadvisePageout(th, a, len)
          : yield* sysMadviseHuge(th, a, len, s.advice === 'hugepage');
        if (r < 0) this.fail(s.pos, `madvise failed: ${errnoName(-r)}`);
        return;
      }
      case 'mremap': {
        const r = env.region(s.region);
        if (r === undefined) this.fail(s.pos, `region '${s.region}' is not mapped here`);
        const size = this.ev(s.size, env);
        const to = yield* sysMremap(th, r.start, r.len, size);
        if (to < 0) this.fail(s.pos, `mremap of '${s.region}' to ${size} bytes failed: ${errnoName(-to)}`);
        r.start = to;
        r.len = Math.ceil(size / k.pageSize) * k.pageSize;
        return;
      }
      case 'count': {
        const by = s.by !== undefined ? this.ev(s.by, env) : 1;
        th.proc.counters.set(s.counter, (th.proc.counters.get(s.counter) ?? 0) + by);
        return;
      }
      case 'compute': {
        let left = this.ev(s.ns, env);
        while (left > 0) {
          const step = Math.min(left, USER_QUANTUM_NS * 50);
          t.cost(step);
          left -= step;
          yield* this.userSync(th);
        }
        return;
      }
      case 'barrier': {
        if (barrier === null) this.fail(s.pos, 'barrier outside a threads block');
        this.atBarrier.set(th, barrier);
        yield* barrier.wait(t);
        this.atBarrier.delete(th);
        return;
      }
      case 'mmap': {
        const size = this.ev(s.size, env);
        const pages = Math.ceil(size / k.pageSize);
        // A file mapping maps the file from offset 0; a shared anonymous one is a shmem file.
        // `{pid}` and `{tid}` in a path name the task's own file (mkstemp-style per-task files).
        const path = s.file?.replace(/\{pid\}/g, String(th.pid)).replace(/\{tid\}/g, String(th.tid));
        const file = path !== undefined ? k.openFile(path, pages) : s.shared ? k.shmemZeroFile(pages) : null;
        const addr = yield* sysMmap(th, size, protFlags(s.prot) | (s.stack ? VM_GROWSDOWN : 0), s.shared, file);
        if (addr < 0) this.fail(s.pos, `mmap of ${size} bytes failed: ${errnoName(-addr)}`);
        env.regions.set(s.target, { start: addr, len: Math.ceil(size / k.pageSize) * k.pageSize });
        return;
      }
      case 'munmap': {
        const [a, len] = this.part(s.region, s.offset, s.length, env, s.pos);
        const r = yield* sysMunmap(th, a, len);
        if (r < 0) this.fail(s.pos, `munmap failed: ${errnoName(-r)}`);
        return;
      }
      case 'mprotect': {
        const [a, len] = this.part(s.region, s.offset, s.length, env, s.pos);
        const r = yield* sysMprotect(th, a, len, protFlags(s.prot));
        if (r < 0) this.fail(s.pos, `mprotect failed: ${errnoName(-r)}`);
        return;
      }
      case 'touch':
      case 'loop':
      case 'if':
        throw new Error('threadMain runs touch, loop and if itself');
    }
  }

  private part(name: string, off: Expr | undefined, len: Expr | undefined, env: Env, pos: Pos): [number, number] {
    const r = env.region(name);
    if (r === undefined) this.fail(pos, `region '${name}' is not mapped here`);
    const o = off !== undefined ? this.ev(off, env) : 0;
    const l = len !== undefined ? this.ev(len, env) : r.len - o;
    if (o < 0 || l < 0 || o + l > r.len) this.fail(pos, `range ${o}+${l} lies outside region '${name}' (${r.len} bytes)`);
    return [r.start + o, l];
  }

  /** User-mode accesses, one byte each; a missing or read-only translation is a page fault. */
  /**
   * touch: the user-mode loop over pages, run by threadMain itself (so that the yields of a page
   * fault reach the engine through one generator less). touchBegin() sets it up, touchAccess()
   * makes one access that needs no fault, touchNext() moves to the next address.
   */
  private touchBegin(th: Thread, s: Extract<Stmt, { k: 'touch' }>, env: Env): TouchState {
    const k = this.k;
    const [base, len] = this.part(s.region, s.offset, s.length, env, s.pos);
    const ps = k.pageSize;
    let n: number;
    let step = ps;
    if (s.pattern === 'random') n = Math.max(0, Math.floor(this.ev(s.arg!, env)));
    else {
      if (s.pattern === 'stride') step = Math.max(1, this.ev(s.arg!, env));
      n = len > 0 ? Math.ceil(len / step) : 0;
    }
    const st: TouchState = {
      s,
      base,
      write: s.access === 'write',
      random: s.pattern === 'random',
      ps,
      step,
      n,
      pagesInRange: Math.max(1, Math.ceil(len / ps)),
      ip: TEXT_BASE + s.pos.line * 0x10,
      i: 0,
      addr: 0,
      lastSync: th.t.clock,
    };
    if (n > 0) st.addr = this.touchAddr(st);
    return st;
  }

  private touchAddr(st: TouchState): number {
    return st.random ? st.base + this.eng.rng.int(st.pagesInRange) * st.ps : st.base + st.i * st.step;
  }

  /** Move to the next access; false when the statement is done. */
  private touchNext(st: TouchState): boolean {
    if (++st.i >= st.n) return false;
    st.addr = this.touchAddr(st);
    return true;
  }

  /** The access at st.addr if the MMU can make it without a page fault: true if made. */
  private touchAccess(th: Thread, st: TouchState): boolean {
    const k = this.k;
    const pt = leafFor(th, st.addr);
    if (pt === null) return false;
    const idx = k.geo.index(k.geo.levels - 1, st.addr);
    const pte = pt.ptes[idx];
    if ((pte & PTE_PRESENT) === 0 || (st.write && (pte & PTE_WRITE) === 0)) return false;
    const t = th.t;
    if (k.arch.mmu === 'hash' && (pte & PTE_HASHED) === 0) {
      // powerpc hash MMU: the first access after the Linux PTE is set misses the hashed
      // page table; do_hash_fault() -> hash_page() inserts it (no mmap lock, not a page fault).
      t.enterKernel();
      t.cost(k.costs.trapEntryNs + k.costs.hashPageNs + k.costs.trapExitNs);
      t.exitKernel();
      pt.ptes[idx] = pt.ptes[idx] | PTE_HASHED;
    }
    if (st.write) pt.ptes[idx] = pt.ptes[idx] | PTE_DIRTY;
    t.cost(k.costs.userAccessNs);
    return true;
  }

  /** After a page fault at st.addr: a signal kills the process; a fault that never ends is an error. */
  private touchFaulted(th: Thread, st: TouchState, out: FaultOutcome | null, attempt: number): void {
    st.lastSync = th.t.clock;
    if (out !== null) {
      this.kill(th, { signal: out.signal, addr: st.addr, detail: out.detail });
      throw new Killed(out.signal);
    }
    if (attempt > 64) this.fail(st.s.pos, `access at 0x${st.addr.toString(16)} keeps faulting`);
  }

  private touchEnd(th: Thread, st: TouchState): void {
    const c = st.s.counter;
    if (c !== undefined) th.proc.counters.set(c, (th.proc.counters.get(c) ?? 0) + st.n);
  }

  finish(): RunResult {
    const eng = this.eng;
    const stopped = eng.wasStopped;
    const stuck = stopped ? [] : eng.stuckTasks();
    if (stuck.length > 0) {
      // Tasks waiting for an event nobody will send come first: the others wait behind them
      // (for a lock they hold, or to join them).
      const behind = (t: Task): boolean => /^join |lock|\((read|write)\)$/.test(t.waitingOn);
      const roots = stuck.filter((t) => !behind(t));
      const rest = stuck.filter(behind);
      const line = (t: Task): string => `  ${t.comm}/${t.tid} (${stateName(t.state)}) waiting on ${t.waitingOn || 'nothing'}`;
      const head = roots.length > 0
        ? `task ${roots.map((t) => `${t.comm}/${t.tid}`).join(', ')} will never run again (waiting on ${roots[0].waitingOn})`
        : `${stuck.length} task(s) will never run again`;
      throw new SimulationError(`workload '${this.o.workload.name}' cannot finish: ${head}\n${[...roots, ...rest].map(line).join('\n')}`);
    }
    let elapsed = 0;
    let user = 0;
    let sys = 0;
    const threads: ThreadResult[] = [];
    for (const th of this.k.threads) {
      if (th.kernel) continue;
      const t = th.t;
      elapsed = Math.max(elapsed, stopped && t.state !== TaskState.Done ? eng.now : t.endTime);
      user += t.userNs;
      sys += t.sysNs;
      this.k.em.count(EV.CONTEXT_SWITCHES, th, t.ctxSwitches);
      this.k.em.count(EV.CPU_MIGRATIONS, th, t.migrations);
      this.k.em.count(EV.TASK_CLOCK, th, t.userNs + t.sysNs);
      threads.push({ idx: th.idx, tid: th.tid, pid: th.pid, comm: th.comm, userNs: t.userNs, sysNs: t.sysNs });
    }
    const counters = new Map<string, number>();
    for (const p of this.k.processes) for (const [name, v] of p.counters) counters.set(name, (counters.get(name) ?? 0) + v);
    const mscope: ExprScope = {
      param: (name, pos) => {
        const v = this.o.params.get(name);
        if (v === undefined) this.fail(pos, `unknown parameter '$${name}'`);
        return v;
      },
      variable: (name) => (name === 'elapsed' ? elapsed / 1e9 : counters.get(name) ?? 0),
      pages: (_n, pos) => this.fail(pos, 'pages() has no meaning in a metric'),
    };
    const metrics = this.o.workload.metrics.map((m) => {
      let value: number;
      try {
        value = evalExpr(m.value, mscope);
      } catch (err) {
        if (err instanceof ExprEvalError) value = NaN;
        else throw err;
      }
      return { name: m.name, unit: m.unit, value };
    });
    const signals = this.k.processes
      .filter((p) => p.killedBy !== null)
      .map((p) => ({ pid: p.pid, comm: p.comm, signal: p.killedBy!.signal, detail: p.killedBy!.detail }));
    return { elapsedNs: elapsed, userNs: user, sysNs: sys, counts: this.counting, threads, metrics, counters, signals, stopped };
  }
}

function stateName(s: TaskState): string {
  return ['runnable', 'running', 'blocked', 'spinning', 'done'][s];
}

function errnoName(e: number): string {
  return ({ 12: 'ENOMEM', 22: 'EINVAL' } as Record<number, string>)[e] ?? `errno ${e}`;
}

/** Run a workload to completion and return what it counted. */
export function runWorkload(o: RunOptions): RunResult {
  const r = new Runner(o);
  r.start();
  r.eng.run();
  return r.finish();
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
  const r = new Runner(o);
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
  return r.finish();
}

export const SIGNAL_NAMES: Readonly<Record<number, string>> = { [SIGSEGV]: 'Segmentation fault', 7: 'Bus error', 9: 'Killed' };
