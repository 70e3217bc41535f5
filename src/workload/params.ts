/**
 * Parameter resolution: defaults evaluated in declaration order, with command-line overrides.
 * Pure: no I/O.
 *
 * Every value is a number. A word parameter (`param mode = "threads"`, overridden as
 * `mode=processes`) gets the interned number of its word (internWord() in ./expr.ts), the same
 * number a string literal in an expression evaluates to, so `$mode == "processes"` works in the
 * runner without any notion of strings there.
 */
import { MAX_TASKS } from '../config/limits.js';
import { UsageError } from '../errors.js';
import type { Expr, Pos, Stmt, Workload } from './ir.js';
import { ExprEvalError, evalExpr, internWord, walkExpr } from './expr.js';
import { parseNumberLiteral } from './lexer.js';
import { BUILTIN_PARAMS, didYouMean, syntaxError } from './source.js';

/** What a parameter measures, judged from the unit suffixes in its default. */
export type ParamDimension = 'bytes' | 'ns' | undefined;

/**
 * The dimension of each parameter: 'ns' if its default has a duration literal (`0.1s`) or uses a
 * duration parameter, 'bytes' likewise for sizes, undefined for plain numbers (or a mix).
 */
export function paramDimensions(w: Workload): Map<string, ParamDimension> {
  const dims = new Map<string, ParamDimension>();
  for (const p of w.params) {
    let bytes = false;
    let ns = false;
    walkExpr(p.value, (e: Expr) => {
      const d = e.k === 'num' ? e.unit : e.k === 'param' ? dims.get(e.name) : undefined;
      if (d === 'bytes') bytes = true;
      if (d === 'ns') ns = true;
    });
    dims.set(p.name, ns && !bytes ? 'ns' : bytes && !ns ? 'bytes' : undefined);
  }
  return dims;
}

/** A parameter's kind: a number (with or without a unit), or a word (`param mode = "threads"`). */
export type ParamKind = 'number' | 'word';

/**
 * The kind of each parameter: 'word' if its default is a string literal or a word parameter,
 * else 'number'. (Whether the default is otherwise well typed is the checker's business.)
 */
export function paramKinds(w: Workload): Map<string, ParamKind> {
  const kinds = new Map<string, ParamKind>();
  for (const p of w.params) {
    const v = p.value;
    const word = v.k === 'str' || (v.k === 'param' && kinds.get(v.name) === 'word');
    kinds.set(p.name, word ? 'word' : 'number');
  }
  return kinds;
}

/** The words a word parameter can usefully take (see paramWords). */
export interface ParamWords {
  /** Its default and every word it is compared with, in order of appearance. */
  readonly words: readonly string[];
  /** Whether the script compares it with any literal word at all. */
  readonly compared: boolean;
}

/**
 * The words each word parameter can usefully take: its default and every word it is compared
 * with (`$mode == "processes"`), anywhere in the script, joined across parameters that are
 * compared with each other or copy each other's default.
 */
export function paramWords(w: Workload): Map<string, ParamWords> {
  const kinds = paramKinds(w);
  // Union-find over word parameters; each root collects the words of its class.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const [name, k] of kinds) if (k === 'word') parent.set(name, name);
  const found: Array<[string, string, boolean]> = [];
  const isWordParam = (e: Expr): e is Extract<Expr, { k: 'param' }> => e.k === 'param' && kinds.get(e.name) === 'word';
  const visit = (e: Expr): void =>
    walkExpr(e, (x) => {
      if (x.k !== 'bin' || (x.op !== '==' && x.op !== '!=')) return;
      if (isWordParam(x.a) && x.b.k === 'str') found.push([x.a.name, x.b.s, true]);
      if (isWordParam(x.b) && x.a.k === 'str') found.push([x.b.name, x.a.s, true]);
      if (isWordParam(x.a) && isWordParam(x.b)) union(x.a.name, x.b.name);
    });
  for (const p of w.params) {
    if (p.value.k === 'str') found.push([p.name, p.value.s, false]);
    else if (isWordParam(p.value)) union(p.name, p.value.name);
    visit(p.value);
  }
  for (const m of w.metrics) visit(m.value);
  for (const pr of w.processes) {
    visit(pr.count);
    forEachStmtExpr(pr.body, visit);
  }
  const byRoot = new Map<string, { words: string[]; compared: boolean }>();
  for (const [name, word, compared] of found) {
    const r = find(name);
    const entry = byRoot.get(r) ?? { words: [], compared: false };
    if (!entry.words.includes(word)) entry.words.push(word);
    entry.compared ||= compared;
    byRoot.set(r, entry);
  }
  const out = new Map<string, ParamWords>();
  for (const name of parent.keys()) out.set(name, byRoot.get(find(name)) ?? { words: [], compared: false });
  return out;
}

/** Calls `f` on every expression of the statements (not on sub-expressions: see walkExpr). */
function forEachStmtExpr(body: readonly Stmt[], f: (e: Expr) => void): void {
  for (const s of body) {
    const maybe = (e: Expr | undefined): void => {
      if (e !== undefined) f(e);
    };
    switch (s.k) {
      case 'threads':
        f(s.count);
        forEachStmtExpr(s.body, f);
        break;
      case 'loop':
        maybe(s.times);
        maybe(s.duration);
        forEachStmtExpr(s.body, f);
        break;
      case 'if':
        f(s.cond);
        forEachStmtExpr(s.then, f);
        if (s.else) forEachStmtExpr(s.else, f);
        break;
      case 'fork':
        maybe(s.count);
        forEachStmtExpr(s.body, f);
        break;
      case 'parallel':
      case 'phase':
        forEachStmtExpr(s.body, f);
        break;
      case 'let':
        f(s.value);
        break;
      case 'mmap':
        f(s.size);
        break;
      case 'munmap':
      case 'mprotect':
      case 'madvise':
        maybe(s.offset);
        maybe(s.length);
        break;
      case 'touch':
        maybe(s.arg);
        maybe(s.offset);
        maybe(s.length);
        break;
      case 'compute':
      case 'sleep':
        f(s.ns);
        break;
      case 'write':
      case 'expect':
        f(s.value);
        maybe(s.offset);
        break;
      case 'count':
        maybe(s.by);
        break;
      case 'barrier':
        break;
    }
  }
}

/**
 * What values a number parameter can take on the command line, judged from where the script uses
 * it as a whole (`$name` itself, not inside a larger expression):
 *  - the count of `threads`, `fork` or `process ... count`: a whole number, at least 1 (0 tasks
 *    would run nothing and report 0 faults as if that were a result), at most MAX_TASKS;
 *  - the count of a `loop`: a whole number, at least 0 (`loop 0 for D` means "no count limit");
 *  - anything else: at least 0, unless the default itself is negative (`param x = -4`). No shipped
 *    parameter is negative: a size, duration, rate or count below 0 means nothing.
 */
export interface ParamDomain {
  readonly whole: boolean;
  readonly min: number;
  /** Largest value (a task count: MAX_TASKS), or undefined. */
  readonly max?: number;
  /** Why, for the message: e.g. "the count of 'threads' at 69:5". */
  readonly why?: string;
}

export function paramDomains(w: Workload): Map<string, ParamDomain> {
  const out = new Map<string, ParamDomain>();
  for (const p of w.params) out.set(p.name, { whole: false, min: p.value.k === 'neg' ? -Infinity : 0 });
  const use = (e: Expr | undefined, min: number, what: string, max?: number): void => {
    if (e === undefined || e.k !== 'param') return;
    const d = out.get(e.name);
    if (d === undefined || (d.whole && d.min >= min && (max === undefined || d.max !== undefined))) return;
    out.set(e.name, { whole: true, min: Math.max(min, d.min), ...(max !== undefined || d.max !== undefined ? { max: max ?? d.max } : {}), why: `the count of '${what}' at ${w.file}:${e.pos.line}:${e.pos.col}` });
  };
  const visit = (body: readonly Stmt[]): void => {
    for (const s of body) {
      if (s.k === 'threads' || s.k === 'fork') use(s.count, 1, s.k, MAX_TASKS);
      if (s.k === 'loop') use(s.times, 0, 'loop');
      if (s.k === 'threads' || s.k === 'fork' || s.k === 'loop' || s.k === 'parallel' || s.k === 'phase') visit(s.body);
      if (s.k === 'if') {
        visit(s.then);
        if (s.else) visit(s.else);
      }
    }
  };
  for (const pr of w.processes) {
    use(pr.count, 1, 'process', MAX_TASKS);
    visit(pr.body);
  }
  return out;
}

/** Refuse an override outside its parameter's domain (see paramDomains). */
function checkDomain(w: Workload, name: string, raw: string, v: number, d: ParamDomain | undefined): number {
  if (d === undefined) return v;
  const bad = (why: string): never => {
    throw new UsageError(`bad value '${raw}' for parameter '${name}' of workload '${w.name}': ${why}`);
  };
  if (!Number.isFinite(v)) bad('not a finite number');
  const because = d.why !== undefined ? ` (${d.why})` : '';
  if (d.whole && !Number.isInteger(v)) bad(`'${name}' takes a whole number${because}`);
  if (v < d.min) bad(d.min === 0 ? `'${name}' cannot be negative` : `'${name}' must be at least ${d.min}${because}`);
  if (d.max !== undefined && v > d.max) bad(`'${name}' must be at most ${d.max}, spfperf's limit on tasks in a run (the kernel's default pid_max; docs/model.md#limits)${because}`);
  return v;
}

/**
 * A word override (`mode=processes`; quotes around it are dropped). When the script compares the
 * parameter with words, the value must be one of them (or the default): another word could never
 * select anything, so it is taken for a typo.
 */
function parseWordOverride(w: Workload, name: string, raw: string, known: ParamWords): number {
  const { words } = known;
  const bad = (why: string): never => {
    throw new UsageError(`bad value '${raw}' for parameter '${name}' of workload '${w.name}': ${why}`);
  };
  const text = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  const choices = words.length > 0 ? ` (one of: ${words.join(', ')})` : '';
  if (/^[-+.0-9]/.test(text)) return bad(`'${name}' takes a word${choices}, not a number`);
  if (text === '') return bad(`'${name}' takes a word${choices}`);
  if (known.compared && !words.includes(text)) {
    return bad(`expected one of: ${words.join(', ')}${didYouMean(text, words)}`);
  }
  return internWord(text);
}

/**
 * Parse one override value with the DSL's literal rules (`16`, `0x10`, `64M`, `2s`, `-1`).
 * A plain number given for a duration parameter is taken as seconds (`seconds=2` is 2 s, not
 * 2 ns); for a size parameter, as bytes.
 */
function parseOverrideValue(w: Workload, name: string, raw: string, dim: ParamDimension): number {
  const bad = (why: string): never => {
    throw new UsageError(`bad value '${raw}' for parameter '${name}' of workload '${w.name}': ${why}`);
  };
  if (/^"|^[A-Za-z_]/.test(raw)) {
    return bad(`'${name}' takes a number (e.g. ${dim === 'ns' ? '2s, 500ms' : dim === 'bytes' ? '64M, 4K' : '16, 0x10'}), not a word`);
  }
  const negative = raw.startsWith('-');
  const text = negative ? raw.slice(1) : raw;
  let r = parseNumberLiteral(text);
  if (!r.ok) return bad(r.message);
  if (r.lit.unit === undefined && dim === 'ns') {
    r = parseNumberLiteral(`${text}s`);
    if (!r.ok) return bad(r.message);
  }
  const unit = r.lit.unit;
  if (unit !== undefined && dim !== undefined && unit !== dim) {
    return bad(`'${name}' is a ${dim === 'ns' ? 'duration (e.g. 2s, 500ms)' : 'size (e.g. 64M, 4K)'}, not a ${unit === 'ns' ? 'duration' : 'size'}`);
  }
  return negative ? -r.lit.value : r.lit.value;
}

/**
 * `name=value` lists merged for a program's own use (calibrate's empty run): a later list's value
 * replaces an earlier one's for the same name, keeping its place. resolveParams itself refuses a
 * name given twice, since on the command line that is a mistake.
 */
export function mergeParamArgs(...lists: ReadonlyArray<readonly string[]>): string[] {
  const out: string[] = [];
  const nameOf = (a: string): string => a.slice(0, Math.max(0, a.indexOf('='))).trim();
  for (const list of lists) {
    for (const a of list) {
      const i = out.findIndex((b) => nameOf(b) !== '' && nameOf(b) === nameOf(a));
      if (i >= 0) out[i] = a;
      else out.push(a);
    }
  }
  return out;
}

/**
 * Values of every parameter of `w` plus the given built-ins (e.g. { ncpus: 8, seed: 1 }).
 * `overrides` are `name=value` strings from the command line, each name at most once.
 * Throws UsageError for a malformed, unknown or bad override, WorkloadSyntaxError for a default
 * that cannot be evaluated (division by zero, a name with no value).
 */
export function resolveParams(
  w: Workload,
  overrides: ReadonlyArray<string>,
  builtins: Readonly<Record<string, number>>,
): Map<string, number> {
  const declared = new Set(w.params.map((p) => p.name));
  const dims = paramDimensions(w);
  const kinds = paramKinds(w);
  let words: Map<string, ParamWords> | undefined;
  let domains: Map<string, ParamDomain> | undefined;
  const given = new Map<string, number>();
  for (const o of overrides) {
    const eq = o.indexOf('=');
    const name = eq < 0 ? '' : o.slice(0, eq).trim();
    const raw = eq < 0 ? '' : o.slice(eq + 1).trim();
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || raw === '') {
      throw new UsageError(`malformed parameter '${o}': expected name=value (e.g. threads=16, size=64M, seconds=2s)`);
    }
    if (!declared.has(name)) {
      const known = w.params.map((p) => p.name);
      if (BUILTIN_PARAMS.includes(name)) {
        throw new UsageError(`'${name}' is a built-in of workload '${w.name}' and cannot be set as a parameter (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
      }
      throw new UsageError(
        `unknown parameter '${name}' for workload '${w.name}' (known: ${known.length > 0 ? known.join(', ') : 'none'})${didYouMean(name, known)}`,
      );
    }
    if (given.has(name)) {
      throw new UsageError(`parameter '${name}' of workload '${w.name}' is given twice ('${o}'): give each parameter once`);
    }
    if (kinds.get(name) === 'word') {
      words ??= paramWords(w);
      given.set(name, parseWordOverride(w, name, raw, words.get(name) ?? { words: [], compared: false }));
    } else {
      domains ??= paramDomains(w);
      given.set(name, checkDomain(w, name, raw, parseOverrideValue(w, name, raw, dims.get(name)), domains.get(name)));
    }
  }

  const values = new Map<string, number>(Object.entries(builtins));
  const fail = (pos: Pos, detail: string): never => {
    throw syntaxError(w.file, w.source, pos, detail);
  };
  for (const p of w.params) {
    const o = given.get(p.name);
    if (o !== undefined) {
      values.set(p.name, o);
      continue;
    }
    let v: number;
    try {
      v = evalExpr(p.value, {
        param: (name, pos) => {
          const x = values.get(name);
          if (x === undefined || !isEarlier(w, name, p.name)) {
            return fail(pos, `'$${name}' has no value in the default of parameter '${p.name}'`);
          }
          return x;
        },
        variable: (name, pos) => fail(pos, `a parameter default cannot use the variable '${name}'`),
        pages: (_r, pos) => fail(pos, 'pages() cannot be used in a parameter default'),
      });
    } catch (e) {
      if (e instanceof ExprEvalError) fail(e.pos, `${e.message} in the default of parameter '${p.name}'`);
      throw e;
    }
    if (!Number.isFinite(v)) fail(p.pos, `the default of parameter '${p.name}' is not a finite number`);
    values.set(p.name, v);
  }
  return values;
}

/** Whether `name` is a built-in or a parameter declared before `of`. */
function isEarlier(w: Workload, name: string, of: string): boolean {
  if (!w.params.some((p) => p.name === name)) return true; // a built-in
  for (const p of w.params) {
    if (p.name === of) return false;
    if (p.name === name) return true;
  }
  return false;
}

/**
 * The parameters as a saved run or a trace header writes them: a word parameter as its word
 * (`"mode": "processes"`), not the number it is interned to (internWord()); every other value as
 * it is. The word is found among the script's words and the overrides given.
 */
export function paramsForOutput(w: Workload, values: ReadonlyMap<string, number>, overrides: readonly string[]): Record<string, number | string> {
  const kinds = paramKinds(w);
  const byNumber = new Map<number, string>();
  const add = (word: string): void => {
    byNumber.set(internWord(word), word);
  };
  if ([...kinds.values()].includes('word')) {
    for (const { words } of paramWords(w).values()) words.forEach(add);
    for (const o of overrides) {
      const raw = o.slice(o.indexOf('=') + 1).trim();
      add(raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
    }
  }
  const out: Record<string, number | string> = {};
  for (const [name, v] of values) out[name] = kinds.get(name) === 'word' ? byNumber.get(v) ?? v : v;
  return out;
}
