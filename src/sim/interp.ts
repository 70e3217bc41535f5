import { ipOfLine } from '../trace/user-ip.js';
import { Killed, LOOP_SYNC_ITERS, loopGoesOn, numberSpawners, ProcessCounters, protFlags, USER_QUANTUM_NS, type Frame, type LoopState, type TouchState } from './interp-state.js';
import { calleeOf, driveFrame, FRAMES, FRAMES_PENDING, PREEMPT, RESUME_LATER, STEP_CALL, SYNC, type Code, type Engine, type Task } from '../engine/engine.js';
import { Barrier } from '../engine/locks.js';
import { streamSeed } from '../engine/rng.js';
import type { CountingSink } from '../trace/sink.js';
import { Process, Thread, type Kernel } from '../mm/kernel.js';
import type { FaultOutcome } from '../mm/access.js';
import { syncMmRss } from '../mm/rss.js';
import { khugepaged, workloadAlive } from '../mm/khugepaged.js';
import { exitMmap, sysMmap, sysMunmap } from '../mm/mmap.js';
import { dupMmap, traceSchedProcessExit, traceSchedProcessFork } from '../mm/fork.js';
import { sysMadviseDontneed, sysMadviseHuge, sysMadvisePopulate } from '../mm/madvise.js';
import { sysMprotect } from '../mm/mprotect.js';
import { sysMremap } from '../mm/mremap.js';
import { sysMadvisePageout } from '../mm/swap.js';
import { VM_GROWSDOWN } from '../mm/types.js';
import type { Expr, Pos, Stmt, Workload } from '../workload/ir.js';
import { syntaxError } from '../workload/source.js';
import { SimulationError, UsageError } from '../errors.js';
import { MAX_TASKS } from '../config/limits.js';
import { errnoName, LiveCounts, type CountsView } from './results.js';
import { Env, evalIn } from './env.js';
import { factorOf, type Perturbation } from '../config/constants.js';
import { userValue, wordAddr } from './values.js';
import { Phases } from './phases.js';
import { touchAddr, TouchLoop, TOUCH_DONE, TOUCH_FAULTED } from './touch.js';
import { workloadPhases } from '../workload/check.js';

/**
 * The workload interpreter: one engine task per workload thread, each running its statements
 * and entering the kernel model (src/mm) for every syscall and, through the user-mode access
 * path (mm/access.ts), for every page fault.
 */

/** What the interpreter reads of the run's options (RunOptions in run.ts). */
export interface InterpOptions {
  readonly workload: Workload;
  readonly params: ReadonlyMap<string, number>;
  readonly ncpus: number;
  readonly seed: number;
  readonly intervalNs?: number;
  readonly onInterval?: (timeNs: number, counts: CountsView) => void;
  readonly keepAddressSpaces?: boolean;
  readonly khugepaged?: { readonly sleepMs: number; readonly pages: number } | null;
  /** Declared constants scaled for this run (USER_QUANTUM_NS here). */
  readonly perturb?: Perturbation;
}

export class Runner {
  /** Threads waiting at a barrier, and which one. */
  private readonly atBarrier = new Map<Thread, Barrier>();
  private nextIdx = 0;

  /** The workload's `count` counters, per process. */
  private readonly counters = new ProcessCounters();

  /** Each `threads` and `fork` statement's number in the text, 1-based (childStream()). */
  private readonly spawners = new Map<Stmt, number>();

  /** The script's phases (null when it has none). */
  readonly phases: Phases | null;

  /** USER_QUANTUM_NS, as this run's perturbation scales it. */
  private readonly quantum: number;

  constructor(
    readonly o: InterpOptions,
    readonly eng: Engine,
    readonly k: Kernel,
    readonly counting: CountingSink,
  ) {
    this.quantum = USER_QUANTUM_NS * factorOf(o.perturb, 'USER_QUANTUM_NS');
    numberSpawners(o.workload.processes.flatMap((p) => p.body), this.spawners);
    const phases = workloadPhases(o.workload);
    this.phases = phases.length > 0 ? new Phases(phases, counting) : null;
  }

  fail(pos: Pos, msg: string): never {
    const w = this.o.workload;
    throw new SimulationError(syntaxError(w.file, w.source, pos, msg).render());
  }

  ev(e: Expr, env: Env): number {
    return evalIn(e, env, this.o.params, this.k.pageSize, (pos, msg) => this.fail(pos, msg));
  }

  newThread(proc: Process, tid: number, comm: string): Thread {
    // Every task is kept to the end of the run: bound them (src/config/limits.ts).
    if (this.nextIdx >= MAX_TASKS) {
      throw new UsageError(`workload '${this.o.workload.name}' creates more than ${MAX_TASKS} tasks, spfperf's limit on tasks in a run (the kernel's default pid_max; docs/model.md#limits)`);
    }
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
      const live = new LiveCounts(this.k, this.counting, () => this.summedCounters());
      const tick = (time: number): void => {
        this.eng.at(time, () => {
          // Only while some task still has work: the last partial interval is the caller's.
          if (!workloadAlive(this.k)) return;
          cb(time, live.at(time));
          tick(time + every);
        });
      };
      tick(every);
    }
    for (const [d, decl] of w.processes.entries()) {
      const rootEnv = new Env(null, new Map([['ncpus', this.o.ncpus], ['seed', this.o.seed], ['tid', 0], ['nthreads', 1]]));
      const n = this.ev(decl.count, rootEnv);
      for (let i = 0; i < n; i++) {
        const proc = this.k.newProcess(decl.name);
        const th = this.newThread(proc, proc.pid, decl.name);
        const env = new Env(null, new Map([...rootEnv.builtins, ['pid', proc.pid], ['tid', 0], ['nthreads', 1]]), streamSeed(this.o.seed, d, i));
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
            if (t.clock - l.lastSync > this.quantum) {
              yield* this.userSync(th);
              l.lastSync = t.clock;
              l.lastSyncIter = l.iter;
            } else if (l.iter - l.lastSyncIter >= LOOP_SYNC_ITERS) {
              // Rounds that take no time (`loop 1T { count ops }`): back to the event loop all the
              // same (progress, Ctrl-C), keeping the CPU and the clock: no model event.
              yield RESUME_LATER;
              this.checkAlive(th);
              l.lastSyncIter = l.iter;
            }
            f.i = 0;
            continue;
          }
          stack.pop();
          if (f.phase === true) this.phases?.leave(th);
          continue;
        }
        const s = f.stmts[f.i++];
        th.stmtLine = s.pos.line;
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
              lastSyncIter: 0,
            };
            if (loopGoesOn(l, t.clock, 0)) stack.push({ stmts: s.body, i: 0, loop: l });
            break;
          }
          case 'phase':
            this.phases?.enter(th, s.name);
            stack.push({ stmts: s.body, i: 0, loop: null, phase: true });
            break;
          case 'if':
            if (this.ev(s.cond, env) !== 0) stack.push({ stmts: s.then, i: 0, loop: null });
            else if (s.else !== undefined) stack.push({ stmts: s.else, i: 0, loop: null });
            break;
          case 'touch': {
            // The hot statement: its loop a step function (src/sim/touch.ts), driven from here.
            const st = this.touchBegin(th, s, env);
            if (st.n > 0) {
              const loop = new TouchLoop(th, st, this.quantum, this.eng.rng);
              for (;;) {
                let r: number;
                if (this.eng.calls) {
                  r = driveFrame(t, loop);
                  if (r === FRAMES_PENDING) {
                    yield FRAMES;
                    r = t.ret as number;
                  }
                } else {
                  // Where call chains are read off the JS stack: the loop calls the fault's
                  // generator, run from here (as runFrame() would, without its generator between).
                  while ((r = loop.step(t)) === STEP_CALL) t.ret = yield* calleeOf(t);
                }
                if (r === TOUCH_DONE) break;
                if (r === TOUCH_FAULTED) this.faulted(th, s.pos, st.addr, loop.outcome, loop.attempt);
                else {
                  yield* this.userSync(th);
                  st.lastSync = t.clock;
                }
              }
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
    traceSchedProcessExit(th, th.mm.users === 1);
    yield* syncMmRss(th);
    // exit_mm(): the last thread out tears the address space down (exit_mmap).
    if (--th.mm.users === 0 && this.o.keepAddressSpaces !== true) yield* exitMmap(th);
    t.exitKernel();
    // A thread still in a phase (created in it, or killed in it) leaves it as it exits.
    this.phases?.leave(th);
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
      case 'threads':
      case 'fork': {
        const tasks = yield* this.startGroup(th, s, env);
        for (const c of tasks) yield* this.eng.join(t, c);
        return;
      }
      case 'parallel': {
        // Every group started, then all of them waited for.
        const tasks: Task[] = [];
        for (const g of s.body) if (g.k === 'threads' || g.k === 'fork') tasks.push(...(yield* this.startGroup(th, g, env)));
        for (const c of tasks) yield* this.eng.join(t, c);
        return;
      }
      case 'let':
        env.vars.set(s.name, this.ev(s.value, env));
        return;
      case 'sleep':
        yield* this.eng.sleep(t, Math.max(0, this.ev(s.ns, env)), 'nanosleep');
        return;
      case 'write':
      case 'expect': {
        const r = env.region(s.region) ?? this.fail(s.pos, `region '${s.region}' is not mapped here`);
        const a = wordAddr(r.start, r.len, s.offset !== undefined ? this.ev(s.offset, env) : 0);
        if (typeof a === 'string') this.fail(s.pos, a);
        yield* userValue(th, s.k, a, this.ev(s.value, env), ipOfLine(s.pos.line), (out, n) => this.faulted(th, s.pos, a, out, n));
        return;
      }
      case 'madvise': {
        const [a, len] = this.part(s.region, s.offset, s.length, env, s.pos);
        const r =
          s.advice === 'dontneed' ? yield* sysMadviseDontneed(th, a, len)
          : s.advice === 'pageout' ? yield* sysMadvisePageout(th, a, len)
          : s.advice === 'populate_read' || s.advice === 'populate_write' ? yield* sysMadvisePopulate(th, a, len, s.advice === 'populate_write')
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
        this.count(th, s.counter, by);
        return;
      }
      case 'compute': {
        let left = this.ev(s.ns, env);
        while (left > 0) {
          const step = Math.min(left, this.quantum * 50);
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
        const addr = yield* sysMmap(th, size, protFlags(s.prot) | (s.stack ? VM_GROWSDOWN : 0), s.shared, file, s.populate === true);
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
      case 'phase':
        throw new Error('threadMain runs touch, loop, if and phase itself');
    }
  }

  /**
   * Start the tasks of a `threads` group (pthread_create: a clone each, the parent paying for
   * it) or of a `fork` (fork(): a clone and dup_mmap each); the caller waits for them.
   */
  private *startGroup(th: Thread, s: Extract<Stmt, { k: 'threads' | 'fork' }>, env: Env): Code<Task[]> {
    const t = th.t;
    const k = this.k;
    const tasks: Task[] = [];
    if (s.k === 'threads') {
      const n = Math.max(0, Math.floor(this.ev(s.count, env)));
      const group = new Barrier(this.eng, `barrier@${s.pos.line}`, n);
      for (let i = 0; i < n; i++) {
        // clone(): the parent pays for each new thread in kernel mode.
        t.enterKernel();
        t.cost(k.costs.cloneNs);
        t.exitKernel();
        yield SYNC;
        const child = this.newThread(th.proc, k.allocPid(), th.proc.comm);
        traceSchedProcessFork(th, child.tid);
        this.phases?.inherit(child, th);
        const cenv = new Env(env, new Map([...env.builtins, ['tid', i], ['nthreads', n]]), this.childStream(env, s, i));
        const affinity = s.pin ? i % this.o.ncpus : -1;
        tasks.push(this.spawnThread(child, t.clock, affinity, (c) => this.threadMain(c, s.body, cenv, group), cenv));
      }
      return tasks;
    }
    const n = s.count !== undefined ? Math.max(0, Math.floor(this.ev(s.count, env))) : 1;
    for (let i = 0; i < n; i++) {
      // fork(): copy the task (clone cost), then the address space (dup_mmap).
      t.enterKernel();
      t.cost(k.costs.cloneNs);
      const proc = k.newProcess(th.proc.comm);
      yield* dupMmap(th, proc.mm);
      traceSchedProcessFork(th, proc.pid);
      t.exitKernel();
      const child = this.newThread(proc, proc.pid, proc.comm);
      this.phases?.inherit(child, th);
      const cenv = new Env(env, new Map([...env.builtins, ['pid', proc.pid], ['tid', 0], ['nthreads', 1]]), this.childStream(env, s, i));
      tasks.push(this.spawnThread(child, t.clock, -1, (c) => this.threadMain(c, s.body, cenv, null), cenv));
    }
    return tasks;
  }

  /** Child i of `s` (threads or fork): a stream seeded by the parent's, the statement's number in the text, and i. */
  private childStream(env: Env, s: Stmt, i: number): number {
    let parent: Env | null = env;
    while (parent !== null && parent.streamKey === null) parent = parent.parent;
    return streamSeed(parent?.streamKey ?? this.o.seed, this.spawners.get(s) ?? 0, i);
  }

  private part(name: string, off: Expr | undefined, len: Expr | undefined, env: Env, pos: Pos): [number, number] {
    const r = env.region(name);
    if (r === undefined) this.fail(pos, `region '${name}' is not mapped here`);
    const o = off !== undefined ? this.ev(off, env) : 0;
    const l = len !== undefined ? this.ev(len, env) : r.len - o;
    if (o < 0 || l < 0 || o + l > r.len) this.fail(pos, `range ${o}+${l} lies outside region '${name}' (${r.len} bytes)`);
    return [r.start + o, l];
  }

  /** touch: its addresses and access, for the loop over pages (TouchLoop, src/sim/touch.ts). */
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
      ip: ipOfLine(s.pos.line),
      i: 0,
      addr: 0,
      lastSync: th.t.clock,
    };
    if (n > 0) st.addr = touchAddr(st, this.eng.rng);
    return st;
  }

  /** After a page fault at addr: a signal kills the process; a fault that never ends is an error. */
  private faulted(th: Thread, pos: Pos, addr: number, out: FaultOutcome | null, attempt: number): void {
    if (out !== null) {
      this.kill(th, { signal: out.signal, addr, detail: out.detail });
      throw new Killed(out.signal);
    }
    if (attempt > 64) this.fail(pos, `access at 0x${addr.toString(16)} keeps faulting`);
  }

  private touchEnd(th: Thread, st: TouchState): void {
    const c = st.s.counter;
    if (c !== undefined) this.count(th, c, st.n);
  }

  /** A `count` statement (or a touch's counter): add to the process's counter. */
  private count(th: Thread, name: string, by: number): void {
    this.counters.add(th.proc, name, by);
    this.phases?.count(th, name, by);
  }

  /** The counters summed over the processes, in process-creation order. */
  summedCounters(): Map<string, number> {
    return this.counters.summed(this.k.processes);
  }
}
