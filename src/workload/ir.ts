/**
 * Workload IR: plain data produced by the DSL parser (and, later, by other front ends such as an
 * importer of real perf traces). The runner in src/mm/runner.ts executes it on the model.
 *
 * Units: sizes are bytes, durations are nanoseconds. Literals with unit suffixes are converted
 * by the parser (`4K` = 4096, `128M` = 134217728, `2G`; `10ns`, `5us`, `3ms`, `2s`).
 */

/** A source position, 1-based. */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

export type BinOp =
  | '+' | '-' | '*' | '/' | '%'
  | '<' | '<=' | '>' | '>=' | '==' | '!='
  | '&&' | '||';

export type Expr =
  /**
   * A number literal (already scaled by its unit suffix). `unit` records which kind of suffix it
   * had, if any ('bytes' for K/M/G/T/KiB..., 'ns' for ns/us/ms/s): used to treat a plain number
   * given on the command line for a duration parameter as seconds, and to print defaults.
   */
  | { readonly k: 'num'; readonly v: number; readonly unit?: 'bytes' | 'ns'; readonly pos: Pos }
  /**
   * A string literal (`"threads"`): a word. It is only meaningful as an operand of `==` / `!=`
   * (against a word parameter or another word); it evaluates to the word's interned number
   * (internWord() in ./expr.ts), so the runner and the parameter map stay all-numbers.
   */
  | { readonly k: 'str'; readonly s: string; readonly pos: Pos }
  /** `$name`: a parameter or a built-in ($ncpus, $tid, $pid, $nthreads). */
  | { readonly k: 'param'; readonly name: string; readonly pos: Pos }
  /** A bare identifier: a `let` variable or a counter name (in metric expressions), or `elapsed`. */
  | { readonly k: 'var'; readonly name: string; readonly pos: Pos }
  | { readonly k: 'bin'; readonly op: BinOp; readonly a: Expr; readonly b: Expr; readonly pos: Pos }
  | { readonly k: 'neg'; readonly a: Expr; readonly pos: Pos }
  | { readonly k: 'not'; readonly a: Expr; readonly pos: Pos }
  /** Built-in functions: min(a,b), max(a,b), floor(a), ceil(a), pages(region) (size / page size). */
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly pos: Pos };

/** madvise(2) advice: MADV_DONTNEED, MADV_(NO)HUGEPAGE, MADV_PAGEOUT, MADV_POPULATE_(READ|WRITE). */
export type MadviseAdvice = 'dontneed' | 'hugepage' | 'nohugepage' | 'pageout' | 'populate_read' | 'populate_write';

/** Protection: any of r, w, x, or none. */
export interface Prot {
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
}

export type Stmt =
  /**
   * `threads N [pin] { ... }`: create N threads of the current process running the body
   * (pthread_create), then wait for all of them (pthread_join). Inside, $tid is the thread's
   * index 0..N-1 in this group and $nthreads is N. `pin` pins thread i to CPU i % ncpus.
   */
  | { readonly k: 'threads'; readonly count: Expr; readonly pin: boolean; readonly body: readonly Stmt[]; readonly pos: Pos }
  /**
   * `loop N { }`, `loop for D { }`, `loop N for D { }`: run the body N times, or until D of
   * simulated time has passed since the loop started (checked before each iteration), or
   * whichever comes first. A count that evaluates to 0 means "no count limit" when a duration is
   * given, and zero iterations when it is not.
   */
  | { readonly k: 'loop'; readonly times?: Expr; readonly duration?: Expr; readonly body: readonly Stmt[]; readonly pos: Pos }
  | { readonly k: 'if'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else?: readonly Stmt[]; readonly pos: Pos }
  /** `let name = expr`: a task-local number variable. */
  | { readonly k: 'let'; readonly name: string; readonly value: Expr; readonly pos: Pos }
  /**
   * `name = mmap SIZE [PROT] [private|shared] [anon|file "path"] [stack] [populate]`: mmap(2); binds
   * a region variable. Defaults: prot rw, private, anon.
   */
  | {
      readonly k: 'mmap';
      readonly target: string;
      readonly size: Expr;
      readonly prot: Prot;
      readonly shared: boolean;
      readonly file?: string;
      /** `stack`: a VM_GROWSDOWN mapping; a touch just below it grows it (expand_stack). */
      readonly stack?: boolean;
      /** `populate`: MAP_POPULATE, the pages faulted in by mmap itself (mm_populate). */
      readonly populate?: boolean;
      readonly pos: Pos;
    }
  /** `mremap name SIZE`: mremap(2) with MREMAP_MAYMOVE of the whole region to SIZE bytes; the region name follows it. */
  | { readonly k: 'mremap'; readonly region: string; readonly size: Expr; readonly pos: Pos }
  /** `munmap name [offset O] [length L]`: munmap(2) of the region or a part of it. */
  | { readonly k: 'munmap'; readonly region: string; readonly offset?: Expr; readonly length?: Expr; readonly pos: Pos }
  /** `mprotect name PROT [offset O] [length L]`. */
  | { readonly k: 'mprotect'; readonly region: string; readonly prot: Prot; readonly offset?: Expr; readonly length?: Expr; readonly pos: Pos }
  /**
   * `touch name read|write [seq|stride S|random N] [offset O] [length L] [count COUNTER]`:
   * user-mode accesses of one byte each. seq = every page in order (the default); stride S =
   * every S bytes; random N = N accesses at pages drawn from the seeded PRNG. When `count` is
   * given, the named workload counter is bumped by the number of accesses made.
   */
  | {
      readonly k: 'touch';
      readonly region: string;
      readonly access: 'read' | 'write';
      readonly pattern: 'seq' | 'stride' | 'random';
      /** stride in bytes (pattern 'stride'), or number of accesses (pattern 'random'). */
      readonly arg?: Expr;
      readonly offset?: Expr;
      readonly length?: Expr;
      readonly counter?: string;
      readonly pos: Pos;
    }
  /** `compute D`: D of user-mode CPU time with no memory traffic the model tracks. */
  | { readonly k: 'compute'; readonly ns: Expr; readonly pos: Pos }
  /** `barrier [NAME]`: wait until every thread of the enclosing `threads` group has arrived. */
  | { readonly k: 'barrier'; readonly name: string; readonly pos: Pos }
  /** `count NAME [EXPR]`: bump a workload counter by EXPR (default 1). */
  | { readonly k: 'count'; readonly counter: string; readonly by?: Expr; readonly pos: Pos }
  /**
   * `fork [N] { ... }`: fork(2) N child processes (copy-on-write copies of this address space,
   * with this thread's regions and variables), each running the body as its main thread and
   * exiting at its end; the parent waits for all of them (wait4). $pid is the child's pid.
   */
  | { readonly k: 'fork'; readonly count?: Expr; readonly body: readonly Stmt[]; readonly pos: Pos }
  /**
   * `parallel { threads N {...} fork M {...} ... }`: start every group (a `threads` or `fork`
   * statement) at once, then wait for all of them. Each group keeps its own $tid, $nthreads and
   * barrier; `body` holds the groups.
   */
  | { readonly k: 'parallel'; readonly body: readonly Stmt[]; readonly pos: Pos }
  /**
   * `phase "name" { ... }`: the body is a phase of the run that stat reports apart (its time,
   * from the first task to enter it to the last to leave, and the counts of the tasks in it,
   * threads and processes created inside included). Phases do not nest.
   */
  | { readonly k: 'phase'; readonly name: string; readonly body: readonly Stmt[]; readonly pos: Pos }
  /** `madvise NAME ADVICE [offset O] [length L]`: madvise(2). */
  | {
      readonly k: 'madvise';
      readonly region: string;
      readonly advice: MadviseAdvice;
      readonly offset?: Expr;
      readonly length?: Expr;
      readonly pos: Pos;
    }
  /** `sleep D`: block for D of simulated time (nanosleep); the CPU is free meanwhile. */
  | { readonly k: 'sleep'; readonly ns: Expr; readonly pos: Pos }
  /**
   * `write NAME V [offset O]`: a user store of the number V to the 8-byte word at byte offset O
   * (a multiple of 8, default 0) of the region. `expect NAME V [offset O]`: a user load of that
   * word, which must read V; another value stops the run with the invariant violation
   * `read-sees-last-write` (a lost write, a stale copy, a zeroed page where data should be).
   */
  | { readonly k: 'write' | 'expect'; readonly region: string; readonly value: Expr; readonly offset?: Expr; readonly pos: Pos };

/** `param name = expr`: a parameter with its default, overridable on the command line. */
export interface ParamDecl {
  readonly name: string;
  readonly value: Expr;
  /** The text after a trailing `#` comment on the same line, if any: shown by `list --workloads`. */
  readonly doc?: string;
  readonly pos: Pos;
}

/** `metric "name" [unit "u"] = expr`: the headline metric, evaluated after the run. */
export interface MetricDecl {
  readonly name: string;
  readonly unit: string;
  readonly value: Expr;
  readonly pos: Pos;
}

/** `process [NAME] [count N] { ... }`: N processes each running the body as its main thread. */
export interface ProcessDecl {
  readonly name: string;
  readonly count: Expr;
  readonly body: readonly Stmt[];
  readonly pos: Pos;
}

export interface Workload {
  /** Name for headers: the file's base name without `.spf`. */
  readonly name: string;
  /** The path it was read from (for error messages). */
  readonly file: string;
  /** Leading `#` comment block of the file: the workload's description. */
  readonly description: string;
  readonly params: readonly ParamDecl[];
  readonly metrics: readonly MetricDecl[];
  readonly processes: readonly ProcessDecl[];
  /** The source text, kept so run-time errors can point at a line with a caret. */
  readonly source: string;
}
