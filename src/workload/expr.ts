/**
 * Evaluation of DSL expressions. Pure: every name is resolved through the caller's ExprScope.
 *
 * Numbers are plain JS numbers (integer-like results stay integers); `/` is real division;
 * `%` is JS remainder (sign of the dividend); comparisons and `&& || !` yield 1 or 0 (any
 * non-zero value is true; `&&` and `||` short-circuit). Division or remainder by zero throws
 * ExprEvalError, which callers turn into their own error type (the runner into a
 * SimulationError, resolveParams into a WorkloadSyntaxError) using its `pos`.
 *
 * Words. A string literal (`"threads"`) and a parameter whose default is one (`param mode =
 * "threads"`, overridden as `mode=processes`) are words. Every value stays a plain number: a word
 * is interned to a number by internWord(), a pure function of its text, so `$mode == "threads"` is
 * a comparison of two numbers and the parameter map and the runner need no other type (what is
 * written for people and tools, a trace header or a saved run, gives the word: paramsForOutput()).
 * The checker makes sure a word is only ever an operand of `==` or `!=` (with another word), so an
 * interned number never meets an ordinary one.
 */
import type { Expr, Pos } from './ir.js';

/**
 * The number a word stands for: a 52-bit hash of its UTF-16 code units (two FNV-1a variants
 * combined), so it is the same in every run and every process (saved runs compare equal), is a
 * safe integer, and two different words of one script collide with negligible probability (the
 * checker still rejects a script in which two of its words would).
 */
export function internWord(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    h2 = (h2 ^ (h2 >>> 13)) >>> 0;
  }
  // 32 bits of h1 above 20 bits of h2: below 2^52.
  return h1 * 2 ** 20 + (h2 >>> 12);
}

export interface ExprScope {
  /** `$name`: a parameter or built-in. */
  param(name: string, pos: Pos): number;
  /** A bare identifier: a `let` variable, or in metrics a counter or `elapsed`. */
  variable(name: string, pos: Pos): number;
  /** `pages(region)`: the region's size in pages. */
  pages(region: string, pos: Pos): number;
  /**
   * A uniform float in [0, 1) from the task's workload stream (random(), uniform(), choose()).
   * Absent where those have no value (a parameter default, a metric): a call there is an error.
   */
  random?(): number;
}

/** An expression that cannot be evaluated (division by zero, a malformed call). */
export class ExprEvalError extends Error {
  constructor(
    message: string,
    readonly pos: Pos,
  ) {
    super(message);
    this.name = 'ExprEvalError';
  }
}

const truth = (b: boolean): number => (b ? 1 : 0);

export function evalExpr(e: Expr, scope: ExprScope): number {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'str':
      return internWord(e.s);
    case 'param':
      return scope.param(e.name, e.pos);
    case 'var':
      return scope.variable(e.name, e.pos);
    case 'neg':
      return -evalExpr(e.a, scope);
    case 'not':
      return truth(evalExpr(e.a, scope) === 0);
    case 'bin': {
      if (e.op === '&&') {
        return truth(evalExpr(e.a, scope) !== 0 && evalExpr(e.b, scope) !== 0);
      }
      if (e.op === '||') {
        return truth(evalExpr(e.a, scope) !== 0 || evalExpr(e.b, scope) !== 0);
      }
      const a = evalExpr(e.a, scope);
      const b = evalExpr(e.b, scope);
      switch (e.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (b === 0) throw new ExprEvalError('division by zero', e.pos);
          return a / b;
        case '%':
          if (b === 0) throw new ExprEvalError('remainder by zero', e.pos);
          return a % b;
        case '<':
          return truth(a < b);
        case '<=':
          return truth(a <= b);
        case '>':
          return truth(a > b);
        case '>=':
          return truth(a >= b);
        case '==':
          return truth(a === b);
        case '!=':
          return truth(a !== b);
      }
      // Unreachable: every BinOp is handled above.
      throw new ExprEvalError(`unknown operator '${String((e as { op: unknown }).op)}'`, e.pos);
    }
    case 'call': {
      if (e.fn === 'pages') {
        const r = e.args[0];
        if (e.args.length !== 1 || r === undefined || r.k !== 'var') {
          throw new ExprEvalError('pages() takes one region name', e.pos);
        }
        return scope.pages(r.name, r.pos);
      }
      if (e.fn === 'random' || e.fn === 'uniform' || e.fn === 'choose') return drawn(e, scope);
      const args = e.args.map((x) => evalExpr(x, scope));
      switch (e.fn) {
        case 'min':
        case 'max':
          if (args.length === 0) throw new ExprEvalError(`${e.fn}() needs arguments`, e.pos);
          return e.fn === 'min' ? Math.min(...args) : Math.max(...args);
        case 'floor':
        case 'ceil':
          if (args.length !== 1) throw new ExprEvalError(`${e.fn}() takes 1 argument`, e.pos);
          return e.fn === 'floor' ? Math.floor(args[0]!) : Math.ceil(args[0]!);
        default:
          throw new ExprEvalError(`unknown function '${e.fn}'`, e.pos);
      }
    }
  }
}

/** The largest span random(lo, hi) draws from: every integer in it is a double. */
const MAX_RANDOM_SPAN = 2 ** 53;

/**
 * random(lo, hi): an integer drawn uniformly from lo..hi, both included (whole numbers, lo <= hi);
 * uniform(lo, hi): a real number drawn uniformly from [lo, hi); choose(a, b, ...): one of its
 * arguments, each as likely, the others not evaluated. One draw of the scope's stream each.
 */
function drawn(e: Extract<Expr, { k: 'call' }>, scope: ExprScope): number {
  const draw = scope.random;
  if (draw === undefined) throw new ExprEvalError(`${e.fn}() has no value here (it draws from a task's stream)`, e.pos);
  if (e.fn === 'choose') {
    const pick = e.args[Math.floor(draw() * e.args.length)];
    if (pick === undefined) throw new ExprEvalError('choose() needs arguments', e.pos);
    return evalExpr(pick, scope);
  }
  if (e.args.length !== 2) throw new ExprEvalError(`${e.fn}() takes 2 arguments`, e.pos);
  const lo = evalExpr(e.args[0]!, scope);
  const hi = evalExpr(e.args[1]!, scope);
  const bad = randomRangeError(e.fn, lo, hi);
  if (bad !== null) throw new ExprEvalError(bad, e.pos);
  return e.fn === 'random' ? lo + Math.floor(draw() * (hi - lo + 1)) : lo + draw() * (hi - lo);
}

/** What is wrong with the range of random(lo, hi) or uniform(lo, hi), or null if nothing. */
export function randomRangeError(fn: string, lo: number, hi: number): string | null {
  const call = `${fn}(${lo}, ${hi})`;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return `${call}: the bounds must be finite numbers`;
  if (fn === 'random' && !(Number.isInteger(lo) && Number.isInteger(hi))) return `${call}: the bounds must be whole numbers (uniform(lo, hi) draws a real number)`;
  if (lo > hi) return `${call}: the low bound is above the high bound`;
  if (fn === 'random' && hi - lo >= MAX_RANDOM_SPAN) return `${call}: the range spans more than 2^53 numbers`;
  return null;
}

/** Calls `f` on `e` and every sub-expression, parents first. */
export function walkExpr(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.k) {
    case 'bin':
      walkExpr(e.a, f);
      walkExpr(e.b, f);
      break;
    case 'neg':
    case 'not':
      walkExpr(e.a, f);
      break;
    case 'call':
      for (const a of e.args) walkExpr(a, f);
      break;
    default:
      break;
  }
}
