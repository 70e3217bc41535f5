/**
 * Static checks of a parsed workload. Pure: throws WorkloadSyntaxError at the first problem.
 *
 * Name rules (docs/workload-language.md, "Names and scope"):
 *  - `$name` is a declared parameter or a built-in ($ncpus, $tid, $pid, $nthreads, $seed).
 *    Parameter defaults may use earlier parameters, $ncpus and $seed; metrics may use any
 *    parameter, $ncpus and $seed (the per-task built-ins have no value there).
 *  - Regions (NAME = mmap ...) and `let` variables are per process block and must be assigned
 *    earlier in program order (textually earlier in the same process body, at any depth) than
 *    their use. The two share one namespace: a name is either a region or a variable.
 *  - `barrier` only inside a `threads` block.
 *  - A bare name in a metric is `elapsed` or a counter that some `count` statement or
 *    `touch ... count NAME` bumps.
 *
 * Words (docs/workload-language.md, "Words"): a string literal is a word, and so is a parameter whose
 * default is a word. A word may only be an operand of `==` or `!=` with another word, and only a
 * parameter default may be a word as a whole; everywhere else (arithmetic, `<`, `&&`, `!`,
 * function arguments, counts, sizes, conditions, metrics) a word is an error.
 */
import { internWord, randomRangeError } from './expr.js';
import type { Expr, Pos, Stmt, Workload } from './ir.js';
import { paramKinds, type ParamKind } from './params.js';
import { BUILTIN_PARAMS, GLOBAL_BUILTINS, METRIC_BUILTIN_VARS, TASK_BUILTIN_VARS, didYouMean, syntaxError } from './source.js';

interface ExprRules {
  /** Throws (via fail) if `$name` is not allowed here. */
  param(name: string, pos: Pos): void;
  /** Throws if the bare name is not allowed here. */
  variable(name: string, pos: Pos): void;
  /** Throws if `pages(region)` is not allowed here; `pos` is the region name's, `call` the call's. */
  pages(region: string, pos: Pos, call: Pos): void;
  /** Throws if random(), uniform() or choose() (a draw of a task's stream) is not allowed here. */
  random?(fn: string, call: Pos): void;
}

/** The functions that draw from a task's workload stream. */
const DRAWS: ReadonlySet<string> = new Set(['random', 'uniform', 'choose']);

/**
 * The workload's counters: every name a `count` or `touch ... count` statement bumps, each once,
 * in the order of their first appearance in the text (the order stat prints them in).
 */
export function workloadCounters(w: Workload): string[] {
  const counters = new Set<string>();
  const collect = (body: readonly Stmt[]): void => {
    for (const s of body) {
      if (s.k === 'count') counters.add(s.counter);
      else if (s.k === 'touch' && s.counter !== undefined) counters.add(s.counter);
      else if (s.k === 'threads' || s.k === 'loop' || s.k === 'fork' || s.k === 'parallel' || s.k === 'phase') collect(s.body);
      else if (s.k === 'if') {
        collect(s.then);
        if (s.else) collect(s.else);
      }
    }
  };
  for (const pr of w.processes) collect(pr.body);
  return [...counters];
}

/** The names of the workload's phases (`phase "name" { ... }`), each once, in text order. */
export function workloadPhases(w: Workload): string[] {
  const names = new Set<string>();
  const collect = (body: readonly Stmt[]): void => {
    for (const s of body) {
      if (s.k === 'phase') names.add(s.name);
      if (s.k === 'threads' || s.k === 'loop' || s.k === 'fork' || s.k === 'parallel' || s.k === 'phase') collect(s.body);
      else if (s.k === 'if') {
        collect(s.then);
        if (s.else) collect(s.else);
      }
    }
  };
  for (const pr of w.processes) collect(pr.body);
  return [...names];
}

export function checkWorkload(w: Workload): void {
  new Checker(w).run();
}

class Checker {
  private readonly paramLine = new Map<string, number>();
  private readonly kinds: ReadonlyMap<string, ParamKind>;
  /** Every word of the script, by its interned number (to catch a collision). */
  private readonly words = new Map<number, string>();

  constructor(private readonly w: Workload) {
    this.kinds = paramKinds(w);
  }

  private fail(pos: Pos, detail: string): never {
    throw syntaxError(this.w.file, this.w.source, pos, detail);
  }

  /**
   * Check the names in `e` against `rules`, then its kinds: the value must be a number unless
   * `wordOk` (a parameter default), and words may only be compared with `==` / `!=`.
   */
  private checkExpr(e: Expr, rules: ExprRules, wordOk = false): void {
    this.checkNames(e, rules);
    if (this.kindOf(e) === 'word' && !wordOk) {
      const what = e.k === 'param' ? `'$${e.name}'` : e.k === 'str' ? `"${e.s}"` : 'this';
      const hint = e.k === 'param' ? `; compare it with a word, e.g. $${e.name} == "${this.exampleWord(e.name)}"` : '';
      this.fail(e.pos, `${what} is a word, not a number${hint}`);
    }
  }

  private exampleWord(param: string): string {
    const d = this.w.params.find((p) => p.name === param)?.value;
    return d !== undefined && d.k === 'str' ? d.s : 'word';
  }

  /** 'word' for a string literal or a word parameter, else 'number'; fails on a word misused. */
  private kindOf(e: Expr): ParamKind {
    switch (e.k) {
      case 'str': {
        const id = internWord(e.s);
        const other = this.words.get(id);
        if (other !== undefined && other !== e.s) {
          this.fail(e.pos, `the words "${other}" and "${e.s}" intern to the same number; rename one of them`);
        }
        this.words.set(id, e.s);
        return 'word';
      }
      case 'param':
        return this.kinds.get(e.name) ?? 'number';
      case 'num':
      case 'var':
        return 'number';
      case 'neg':
      case 'not':
        this.numberOperand(e.a, e.k === 'neg' ? "unary '-'" : "'!'");
        return 'number';
      case 'call':
        for (const a of e.args) this.numberOperand(a, `${e.fn}()`);
        return 'number';
      case 'bin': {
        if (e.op === '==' || e.op === '!=') {
          const a = this.kindOf(e.a);
          const b = this.kindOf(e.b);
          if (a !== b) {
            const word = a === 'word' ? e.a : e.b;
            this.fail(e.pos, `'${e.op}' compares a word (${this.show(word)}) with a number; a word can only be compared with a word`);
          }
          return 'number';
        }
        this.numberOperand(e.a, `'${e.op}'`);
        this.numberOperand(e.b, `'${e.op}'`);
        return 'number';
      }
    }
  }

  private show(e: Expr): string {
    return e.k === 'param' ? `$${e.name}` : e.k === 'str' ? `"${e.s}"` : 'an expression';
  }

  private numberOperand(e: Expr, op: string): void {
    if (this.kindOf(e) === 'word') {
      this.fail(e.pos, `a word cannot be used in arithmetic: ${op} needs a number, and ${this.show(e)} is a word (words can only be compared with '==' or '!=')`);
    }
  }

  private checkNames(e: Expr, rules: ExprRules): void {
    switch (e.k) {
      case 'num':
      case 'str':
        return;
      case 'param':
        rules.param(e.name, e.pos);
        return;
      case 'var':
        rules.variable(e.name, e.pos);
        return;
      case 'neg':
      case 'not':
        this.checkNames(e.a, rules);
        return;
      case 'bin':
        this.checkNames(e.a, rules);
        this.checkNames(e.b, rules);
        return;
      case 'call':
        if (e.fn === 'pages') {
          const r = e.args[0];
          if (r === undefined || r.k !== 'var' || e.args.length !== 1) this.fail(e.pos, 'pages() takes one region name');
          rules.pages(r.name, r.pos, e.pos);
          return;
        }
        if (DRAWS.has(e.fn)) {
          if (rules.random === undefined) this.fail(e.pos, `${e.fn}() cannot be used here`);
          rules.random(e.fn, e.pos);
          this.constantRange(e);
        }
        for (const a of e.args) this.checkNames(a, rules);
        return;
    }
  }

  /** A random(lo, hi) or uniform(lo, hi) whose bounds are number literals: its range checked now. */
  private constantRange(e: Extract<Expr, { k: 'call' }>): void {
    if (e.fn === 'choose') return;
    const lit = (a: Expr | undefined): number | undefined =>
      a === undefined ? undefined : a.k === 'num' ? a.v : a.k === 'neg' && a.a.k === 'num' ? -a.a.v : undefined;
    const lo = lit(e.args[0]);
    const hi = lit(e.args[1]);
    if (lo === undefined || hi === undefined) return;
    const bad = randomRangeError(e.fn, lo, hi);
    if (bad !== null) this.fail(e.pos, bad);
  }

  private unknownParam(name: string, pos: Pos, known: Iterable<string>): never {
    this.fail(pos, `unknown parameter '$${name}'${didYouMean(name, known, '$')}`);
  }

  run(): void {
    const { w } = this;
    const allParams = new Set(w.params.map((p) => p.name));

    // Parameters: unique, not built-ins; defaults use only earlier parameters and global built-ins.
    for (const p of w.params) {
      if (BUILTIN_PARAMS.includes(p.name)) {
        this.fail(p.pos, `'${p.name}' is a built-in parameter ($${p.name}) and cannot be declared`);
      }
      const first = this.paramLine.get(p.name);
      if (first !== undefined) {
        this.fail(p.pos, `duplicate parameter '${p.name}' (first declared at line ${first})`);
      }
      this.checkExpr(p.value, {
        param: (name, pos) => {
          if (this.paramLine.has(name) || GLOBAL_BUILTINS.includes(name)) return;
          if (name === p.name) this.fail(pos, `the default of parameter '${p.name}' refers to itself`);
          if (allParams.has(name)) {
            this.fail(pos, `parameter '$${name}' is declared after '${p.name}'; a default may only use earlier parameters`);
          }
          if (BUILTIN_PARAMS.includes(name)) {
            this.fail(pos, `'$${name}' has no value in a parameter default (only $${GLOBAL_BUILTINS.join(', $')} and earlier parameters do)`);
          }
          this.unknownParam(name, pos, [...this.paramLine.keys(), ...GLOBAL_BUILTINS]);
        },
        variable: (name, pos) => this.fail(pos, `a parameter default cannot use the variable '${name}' (did you mean '$${name}'?)`),
        pages: (_r, _pos, call) => this.fail(call, 'pages() cannot be used in a parameter default'),
        random: (fn, call) => this.fail(call, `${fn}() cannot be used in a parameter default (it draws from a task's stream; use it in a statement)`),
      }, true);
      this.paramLine.set(p.name, p.pos.line);
    }

    // Counters bumped anywhere (for metrics).
    const counters = new Set(workloadCounters(w));

    const runParam = (name: string, pos: Pos): void => {
      if (allParams.has(name) || BUILTIN_PARAMS.includes(name)) return;
      this.unknownParam(name, pos, [...allParams, ...BUILTIN_PARAMS]);
    };

    // Metrics.
    const metricLine = new Map<string, number>();
    for (const m of w.metrics) {
      const first = metricLine.get(m.name);
      if (first !== undefined) this.fail(m.pos, `duplicate metric "${m.name}" (first declared at line ${first})`);
      metricLine.set(m.name, m.pos.line);
      this.checkExpr(m.value, {
        param: (name, pos) => {
          if (allParams.has(name) || GLOBAL_BUILTINS.includes(name)) return;
          if (BUILTIN_PARAMS.includes(name)) {
            this.fail(pos, `'$${name}' has no value in a metric (only parameters, $${GLOBAL_BUILTINS.join(' and $')} do)`);
          }
          this.unknownParam(name, pos, [...allParams, ...GLOBAL_BUILTINS]);
        },
        variable: (name, pos) => {
          if (counters.has(name) || METRIC_BUILTIN_VARS.includes(name)) return;
          const known = [...[...counters].sort(), ...METRIC_BUILTIN_VARS];
          this.fail(
            pos,
            `'${name}' in metric "${m.name}" is not a counter or 'elapsed' (counters: ${counters.size > 0 ? [...counters].sort().join(', ') : 'none'})${didYouMean(name, known)}`,
          );
        },
        pages: (_r, _pos, call) => this.fail(call, 'pages() cannot be used in a metric'),
        random: (fn, call) => this.fail(call, `${fn}() cannot be used in a metric (it draws from a task's stream; use it in a statement)`),
      });
    }

    // Processes.
    for (const pr of w.processes) {
      this.checkExpr(pr.count, {
        param: runParam,
        variable: (name, pos) => this.fail(pos, `unknown name '${name}' in process count (variables only exist inside the process)`),
        pages: (_r, _pos, call) => this.fail(call, 'pages() cannot be used in a process count'),
        random: (fn, call) => this.fail(call, `${fn}() cannot be used in a process count (it draws from a task's stream; use it in a statement)`),
      });
      new BodyChecker(this, pr.name, runParam).block(pr.body, false);
    }
  }

  /** Exposed to BodyChecker. */
  failAt(pos: Pos, detail: string): never {
    this.fail(pos, detail);
  }

  exprAt(e: Expr, rules: ExprRules): void {
    this.checkExpr(e, rules);
  }
}

/** Checks one process body in program order. */
class BodyChecker {
  /** Names assigned so far, with the line of their first assignment. */
  private readonly regions = new Map<string, number>();
  private readonly lets = new Map<string, number>();
  private readonly rules: ExprRules;
  /** The `phase` statement the checker is inside, if any (phases do not nest). */
  private phase: Extract<Stmt, { k: 'phase' }> | null = null;

  constructor(
    private readonly c: Checker,
    private readonly process: string,
    param: (name: string, pos: Pos) => void,
  ) {
    this.rules = {
      param,
      variable: (name, pos) => {
        if (this.lets.has(name) || TASK_BUILTIN_VARS.includes(name)) return;
        if (this.regions.has(name)) {
          this.c.failAt(pos, `'${name}' is a region, not a number; use pages(${name}) for its size in pages`);
        }
        this.c.failAt(pos, `variable '${name}' is used before any 'let ${name} = ...' in process '${this.process}'${didYouMean(name, this.lets.keys())}`);
      },
      pages: (region, pos) => this.region(region, pos, 'pages()'),
      random: () => undefined,
    };
  }

  private region(name: string, pos: Pos, user: string): void {
    if (this.regions.has(name)) return;
    if (this.lets.has(name)) {
      this.c.failAt(pos, `'${name}' is a variable, not a region (it is set by 'let' at line ${this.lets.get(name)})`);
    }
    this.c.failAt(
      pos,
      `${user} of unknown region '${name}': no '${name} = mmap ...' comes before it in process '${this.process}'${didYouMean(name, this.regions.keys())}`,
    );
  }

  private expr(e: Expr | undefined): void {
    if (e !== undefined) this.c.exprAt(e, this.rules);
  }

  block(body: readonly Stmt[], inThreads: boolean): void {
    for (const s of body) this.stmt(s, inThreads);
  }

  private stmt(s: Stmt, inThreads: boolean): void {
    switch (s.k) {
      case 'threads':
        this.expr(s.count);
        this.block(s.body, true);
        return;
      case 'loop':
        this.expr(s.times);
        this.expr(s.duration);
        this.block(s.body, inThreads);
        return;
      case 'if':
        this.expr(s.cond);
        this.block(s.then, inThreads);
        if (s.else) this.block(s.else, inThreads);
        return;
      case 'let':
        this.expr(s.value);
        if (this.regions.has(s.name)) {
          this.c.failAt(s.pos, `'${s.name}' is already a region (mapped at line ${this.regions.get(s.name)}); pick another variable name`);
        }
        if (!this.lets.has(s.name)) this.lets.set(s.name, s.pos.line);
        return;
      case 'mmap':
        this.expr(s.size);
        if (this.lets.has(s.target)) {
          this.c.failAt(s.pos, `'${s.target}' is already a variable (set by 'let' at line ${this.lets.get(s.target)}); pick another region name`);
        }
        if (!this.regions.has(s.target)) this.regions.set(s.target, s.pos.line);
        return;
      case 'munmap':
      case 'mprotect':
      case 'madvise':
        this.region(s.region, s.pos, s.k);
        this.expr(s.offset);
        this.expr(s.length);
        return;
      case 'touch':
        this.region(s.region, s.pos, 'touch');
        this.expr(s.arg);
        this.expr(s.offset);
        this.expr(s.length);
        return;
      case 'compute':
      case 'sleep':
        this.expr(s.ns);
        return;
      case 'write':
      case 'expect':
        this.region(s.region, s.pos, s.k);
        this.expr(s.value);
        this.expr(s.offset);
        return;
      case 'fork':
        this.expr(s.count);
        this.block(s.body, false);
        return;
      case 'parallel':
        // Its groups are threads and fork statements (the parser makes sure).
        this.block(s.body, inThreads);
        return;
      case 'phase': {
        const outer = this.phase;
        if (outer !== null) {
          this.c.failAt(s.pos, `phase "${s.name}" inside phase "${outer.name}" (line ${outer.pos.line}): phases do not nest`);
        }
        this.phase = s;
        this.block(s.body, inThreads);
        this.phase = null;
        return;
      }
      case 'mremap':
        this.region(s.region, s.pos, 'mremap');
        this.expr(s.size);
        return;
      case 'barrier':
        if (!inThreads) this.c.failAt(s.pos, "'barrier' outside a 'threads' block (a barrier waits for the threads of its group)");
        return;
      case 'count':
        this.expr(s.by);
        return;
    }
  }
}
