/**
 * Recursive-descent parser of the workload DSL: source text to the IR in ./ir.ts. Pure: no I/O.
 * The grammar is documented in docs/workload-language.md, "Grammar"; keep the two in step.
 */
import type { BinOp, Expr, MetricDecl, ParamDecl, Pos, ProcessDecl, Prot, Stmt, Workload } from './ir.js';
import { lex, type Comment, type Token } from './lexer.js';
import { didYouMean, syntaxError } from './source.js';

/** Words that start a statement inside a process body. */
export const STATEMENT_KEYWORDS: readonly string[] = [
  'threads', 'loop', 'if', 'let', 'mmap', 'munmap', 'mprotect', 'touch', 'compute', 'barrier', 'count',
  'fork', 'madvise', 'sleep', 'mremap',
];

const MADVISE_ADVICE = ['dontneed', 'hugepage', 'nohugepage', 'pageout'];

/** Words that start a top-level declaration. */
export const DECLARATION_KEYWORDS: readonly string[] = ['param', 'metric', 'process'];

/** Words that cannot name a region, variable, counter, barrier or process. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  ...STATEMENT_KEYWORDS, ...DECLARATION_KEYWORDS, 'else', 'for', 'pin',
]);

/** Built-in functions and their arity: [min, max] number of arguments. */
export const FUNCTIONS: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['min', [2, Infinity]],
  ['max', [2, Infinity]],
  ['floor', [1, 1]],
  ['ceil', [1, 1]],
  ['pages', [1, 1]],
] as const);

const MMAP_OPTIONS = ['private', 'shared', 'anon', 'file', 'stack', 'none', 'r', 'rw', 'rwx'];
const TOUCH_OPTIONS = ['seq', 'stride', 'random', 'offset', 'length', 'count'];
const RANGE_OPTIONS = ['offset', 'length'];

/** Deepest nesting of blocks or parenthesised expressions accepted (keeps recursion bounded). */
const MAX_DEPTH = 100;

const COMPARISON_OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** `rw`, `r`, `rwx`, `x`... or `none` to a Prot; undefined if the word is not a protection. */
export function parseProt(word: string): Prot | undefined {
  if (word === 'none') return { read: false, write: false, exec: false };
  if (!/^[rwx]{1,3}$/.test(word)) return undefined;
  if (new Set(word).size !== word.length) return undefined;
  return { read: word.includes('r'), write: word.includes('w'), exec: word.includes('x') };
}

/** The workload name for a file path: its base name without `.spf`. */
export function workloadNameOf(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.endsWith('.spf') ? base.slice(0, -'.spf'.length) : base;
}

/**
 * The description of a workload: the leading block of `#` comment lines (after any blank lines),
 * with the `#` and one following space stripped. A `#!` first line is skipped.
 */
export function leadingDescription(source: string): string {
  const lines = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  let i = 0;
  if (lines[0]?.startsWith('#!')) i++;
  while (i < lines.length && lines[i]!.trim() === '') i++;
  const out: string[] = [];
  for (; i < lines.length; i++) {
    const t = lines[i]!.trimStart();
    if (!t.startsWith('#')) break;
    let text = t.slice(1);
    if (text.startsWith(' ')) text = text.slice(1);
    out.push(text.trimEnd());
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

/** Parse a workload script. Throws WorkloadSyntaxError on the first syntax error. */
export function parseWorkload(source: string, file: string): Workload {
  return new Parser(source, file).parseFile();
}

class Parser {
  private readonly toks: readonly Token[];
  private readonly commentByLine: ReadonlyMap<number, Comment>;
  private i = 0;
  private depth = 0;
  private readonly name: string;

  constructor(
    private readonly source: string,
    private readonly file: string,
  ) {
    const { tokens, comments } = lex(source, file);
    this.toks = tokens;
    this.commentByLine = new Map(comments.map((c) => [c.pos.line, c]));
    this.name = workloadNameOf(file);
  }

  // ---------------------------------------------------------------- token helpers

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private prev(): Token {
    return this.toks[Math.max(0, this.i - 1)]!;
  }

  private isSym(t: Token, text: string): boolean {
    return t.kind === 'sym' && t.text === text;
  }

  private isWord(t: Token, text: string): boolean {
    return t.kind === 'ident' && t.text === text;
  }

  /** True at the end of a statement: a separator, `}` or end of file (nothing is consumed). */
  private atStatementEnd(): boolean {
    const t = this.peek();
    return t.kind === 'sep' || t.kind === 'eof' || this.isSym(t, '}');
  }

  private fail(at: Token | Pos, detail: string): never {
    const pos = 'kind' in at ? at.pos : at;
    throw syntaxError(this.file, this.source, pos, detail);
  }

  /** How a token is named in messages. */
  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of file';
      case 'sep':
        return t.text === ';' ? "';'" : 'end of line';
      default:
        return `'${t.text}'`;
    }
  }

  /** Throw `expected WHAT, found X` at the next token, with a did-you-mean if one fits. */
  private expected(what: string, suggestions: readonly string[] = []): never {
    const t = this.peek();
    const hint = t.kind === 'ident' ? didYouMean(t.text, suggestions) : '';
    this.fail(t, `expected ${what}, found ${this.describe(t)}${hint}`);
  }

  private expectSym(text: string, context: string, suggestions: readonly string[] = []): Token {
    const t = this.peek();
    if (!this.isSym(t, text)) this.expected(`'${text}' ${context}`, suggestions);
    return this.next();
  }

  private skipSeps(): void {
    while (this.peek().kind === 'sep') this.next();
  }

  /** After a statement or declaration: a separator (consumed), `}` or end of file must follow. */
  private endStatement(what: string): void {
    const t = this.peek();
    if (t.kind === 'sep') {
      this.next();
      return;
    }
    if (t.kind === 'eof' || this.isSym(t, '}')) return;
    this.fail(t, `expected end of line after ${what}, found ${this.describe(t)}`);
  }

  /** A name for a region, variable, counter, barrier or process: an identifier, not a keyword. */
  private nameToken(what: string, after: string): Token {
    const t = this.peek();
    if (t.kind === 'ident' && RESERVED_WORDS.has(t.text)) {
      this.fail(t, `expected ${what} after ${after}, found keyword '${t.text}'`);
    }
    if (t.kind === 'param') {
      this.fail(t, `expected ${what} after ${after}, found '${t.text}' (${what} is written without '$')`);
    }
    if (t.kind !== 'ident') this.expected(`${what} after ${after}`);
    return this.next();
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) this.fail(t, `nested too deeply (more than ${MAX_DEPTH} levels)`);
  }

  private leave(): void {
    this.depth--;
  }

  // ---------------------------------------------------------------- top level

  parseFile(): Workload {
    const params: ParamDecl[] = [];
    const metrics: MetricDecl[] = [];
    const processes: ProcessDecl[] = [];
    this.skipSeps();
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (t.kind !== 'ident') {
        this.fail(t, `expected 'param', 'metric' or 'process', found ${this.describe(t)}`);
      }
      switch (t.text) {
        case 'param':
          params.push(this.parseParam());
          this.endStatement('parameter declaration');
          break;
        case 'metric':
          metrics.push(this.parseMetric());
          this.endStatement('metric declaration');
          break;
        case 'process':
          processes.push(this.parseProcess());
          this.endStatement("'process' block");
          break;
        default:
          if (this.isSym(this.peek(1), '=') && !this.isWord(this.peek(2), 'mmap')) {
            this.fail(t, `expected 'param', 'metric' or 'process', found '${t.text}'; did you mean 'param ${t.text} = ...'?`);
          }
          if (STATEMENT_KEYWORDS.includes(t.text) || this.isSym(this.peek(1), '=')) {
            this.fail(t, `'${STATEMENT_KEYWORDS.includes(t.text) ? t.text : 'mmap'}' statements are only allowed inside a 'process' block`);
          }
          this.fail(t, `unknown declaration '${t.text}' (expected 'param', 'metric' or 'process')${didYouMean(t.text, DECLARATION_KEYWORDS)}`);
      }
      this.skipSeps();
    }
    if (processes.length === 0) {
      this.fail(this.peek(), "workload has no 'process' block");
    }
    return {
      name: this.name,
      file: this.file,
      description: leadingDescription(this.source),
      params,
      metrics,
      processes,
      source: this.source,
    };
  }

  /** `param NAME = EXPR [# doc]` */
  private parseParam(): ParamDecl {
    this.next(); // param
    const nameTok = this.peek();
    if (nameTok.kind === 'param') {
      this.fail(nameTok, `write the parameter name without '$' in its declaration: 'param ${nameTok.str} = ...'`);
    }
    // Parameters are always used as `$name`, so keywords are fine names (`param threads = 4`).
    const name = this.peek();
    if (name.kind !== 'ident') this.expected("a parameter name after 'param'");
    this.next();
    this.expectSym('=', `after 'param ${name.text}'`);
    const value = this.parseExpr();
    const comment = this.commentByLine.get(this.prev().pos.line);
    const doc = comment?.text.trim();
    return { name: name.text, value, ...(doc ? { doc } : {}), pos: name.pos };
  }

  /** `metric "NAME" [unit "U"] = EXPR` */
  private parseMetric(): MetricDecl {
    const kw = this.next(); // metric
    const nameTok = this.peek();
    if (nameTok.kind !== 'str') this.expected(`the metric name as a string after 'metric' (e.g. metric "ops/s" = ops / elapsed)`);
    this.next();
    let unit = '';
    if (this.isWord(this.peek(), 'unit')) {
      this.next();
      const u = this.peek();
      if (u.kind !== 'str') this.expected(`a string after 'unit'`);
      this.next();
      unit = u.str!;
    }
    this.expectSym('=', 'after metric name', ['unit']);
    const value = this.parseExpr();
    return { name: nameTok.str!, unit, value, pos: kw.pos };
  }

  /** `process [NAME] [count EXPR] { STMTS }` */
  private parseProcess(): ProcessDecl {
    const kw = this.next(); // process
    let name = this.name;
    let context = "after 'process'";
    const t = this.peek();
    if (t.kind === 'str') {
      name = t.str!;
      this.next();
      context = 'after process name';
    } else if (t.kind === 'ident' && t.text !== 'count') {
      name = this.nameToken('a process name', "'process'").text;
      context = 'after process name';
    }
    let count: Expr = { k: 'num', v: 1, pos: kw.pos };
    if (this.isWord(this.peek(), 'count')) {
      this.next();
      count = this.parseExpr();
      context = 'after process count';
    }
    const body = this.parseBlock(context, context === 'after process count' ? [] : ['count']);
    return { name, count, body, pos: kw.pos };
  }

  // ---------------------------------------------------------------- statements

  /** `{ STMTS }`, where the `{` is expected `context` (e.g. "after threads count"). */
  private parseBlock(context: string, suggestions: readonly string[] = []): Stmt[] {
    // A `{` may stand on the next line.
    let k = 0;
    while (this.peek(k).kind === 'sep' && this.peek(k).text === '\n') k++;
    if (this.isSym(this.peek(k), '{')) {
      for (; k > 0; k--) this.next();
    }
    const open = this.expectSym('{', context, suggestions);
    this.enter(open);
    const body: Stmt[] = [];
    for (;;) {
      this.skipSeps();
      const t = this.peek();
      if (this.isSym(t, '}')) {
        this.next();
        break;
      }
      if (t.kind === 'eof') {
        this.fail(t, `expected '}' to close the block opened at line ${open.pos.line}, found end of file`);
      }
      body.push(this.parseStatement());
    }
    this.leave();
    return body;
  }

  private parseStatement(): Stmt {
    const t = this.peek();
    if (t.kind !== 'ident') {
      this.fail(t, `expected a statement, found ${this.describe(t)}`);
    }
    let s: Stmt;
    switch (t.text) {
      case 'threads':
        s = this.parseThreads();
        break;
      case 'loop':
        s = this.parseLoop();
        break;
      case 'if':
        s = this.parseIf();
        break;
      case 'let':
        s = this.parseLet();
        break;
      case 'munmap':
        s = this.parseMunmap();
        break;
      case 'mprotect':
        s = this.parseMprotect();
        break;
      case 'touch':
        s = this.parseTouch();
        break;
      case 'compute':
        this.next();
        s = { k: 'compute', ns: this.parseExpr(), pos: t.pos };
        break;
      case 'sleep':
        this.next();
        s = { k: 'sleep', ns: this.parseExpr(), pos: t.pos };
        break;
      case 'fork': {
        this.next();
        const count = this.isSym(this.peek(), '{') ? undefined : this.parseExpr();
        const body = this.parseBlock(count === undefined ? "after 'fork'" : 'after fork count');
        s = count === undefined ? { k: 'fork', body, pos: t.pos } : { k: 'fork', count, body, pos: t.pos };
        break;
      }
      case 'madvise': {
        this.next();
        const region = this.nameToken('a region name', "'madvise'").text;
        const a = this.peek();
        if (a.kind !== 'ident' || !MADVISE_ADVICE.includes(a.text)) {
          this.fail(a, `expected advice (dontneed, hugepage, nohugepage or pageout) after 'madvise ${region}', found ${this.describe(a)}${a.kind === 'ident' ? didYouMean(a.text, MADVISE_ADVICE) : ''}`);
        }
        this.next();
        const r = this.parseRange('madvise');
        s = { k: 'madvise', region, advice: a.text as 'dontneed' | 'hugepage' | 'nohugepage' | 'pageout', ...r, pos: t.pos };
        break;
      }
      case 'mremap': {
        this.next();
        const region = this.nameToken('a region name', "'mremap'").text;
        s = { k: 'mremap', region, size: this.parseExpr(), pos: t.pos };
        break;
      }
      case 'barrier': {
        this.next();
        let name = 'default';
        if (!this.atStatementEnd()) name = this.nameToken('a barrier name', "'barrier'").text;
        s = { k: 'barrier', name, pos: t.pos };
        break;
      }
      case 'count': {
        this.next();
        const counter = this.nameToken('a counter name', "'count'").text;
        s = this.atStatementEnd()
          ? { k: 'count', counter, pos: t.pos }
          : { k: 'count', counter, by: this.parseExpr(), pos: t.pos };
        break;
      }
      case 'mmap':
        this.fail(t, "the result of 'mmap' must be assigned to a region name: NAME = mmap SIZE ...");
      case 'else':
        this.fail(t, "'else' without a matching 'if'");
      case 'param':
      case 'metric':
      case 'process':
        this.fail(t, `'${t.text}' declarations are only allowed at the top level, not inside a block`);
      default: {
        const after = this.peek(1);
        if (this.isSym(after, '=')) {
          if (RESERVED_WORDS.has(t.text)) {
            this.fail(t, `'${t.text}' is a keyword and cannot name a region`);
          }
          s = this.parseMmap();
          break;
        }
        if (this.isWord(after, 'mmap')) {
          this.fail(after, `expected '=' between '${t.text}' and 'mmap'`);
        }
        if (RESERVED_WORDS.has(t.text)) {
          this.fail(t, `expected a statement, found keyword '${t.text}'`);
        }
        this.fail(t, `unknown statement '${t.text}'${didYouMean(t.text, STATEMENT_KEYWORDS)}`);
      }
    }
    this.endStatement(`'${s.k === 'mmap' ? 'mmap' : t.text}' statement`);
    return s;
  }

  /** `threads EXPR [pin] { }` */
  private parseThreads(): Stmt {
    const kw = this.next();
    const count = this.parseExpr();
    let pin = false;
    if (this.isWord(this.peek(), 'pin')) {
      this.next();
      pin = true;
    }
    const body = this.parseBlock(pin ? "after 'pin'" : 'after threads count', pin ? [] : ['pin']);
    return { k: 'threads', count, pin, body, pos: kw.pos };
  }

  /** `loop EXPR { }`, `loop for EXPR { }`, `loop EXPR for EXPR { }` */
  private parseLoop(): Stmt {
    const kw = this.next();
    let times: Expr | undefined;
    let duration: Expr | undefined;
    if (!this.isWord(this.peek(), 'for')) {
      if (this.isSym(this.peek(), '{')) this.expected("a loop count or 'for DURATION' after 'loop'");
      times = this.parseExpr();
    }
    if (this.isWord(this.peek(), 'for')) {
      this.next();
      duration = this.parseExpr();
    }
    const body = this.parseBlock(duration ? 'after loop duration' : 'after loop count', duration ? [] : ['for']);
    return {
      k: 'loop',
      ...(times !== undefined ? { times } : {}),
      ...(duration !== undefined ? { duration } : {}),
      body,
      pos: kw.pos,
    };
  }

  /** `if EXPR { } [else { } | else if ...]` */
  private parseIf(): Stmt {
    const kw = this.next();
    const cond = this.parseExpr();
    const then = this.parseBlock('after if condition');
    // `else` may stand on the line after the `}`.
    let k = 0;
    while (this.peek(k).kind === 'sep' && this.peek(k).text === '\n') k++;
    if (!this.isWord(this.peek(k), 'else')) {
      return { k: 'if', cond, then, pos: kw.pos };
    }
    for (; k > 0; k--) this.next();
    const elseTok = this.next();
    let els: Stmt[];
    if (this.isWord(this.peek(), 'if')) {
      this.enter(elseTok);
      els = [this.parseIf()];
      this.leave();
    } else {
      els = this.parseBlock("or 'if' after 'else'");
    }
    return { k: 'if', cond, then, else: els, pos: kw.pos };
  }

  /** `let NAME = EXPR` */
  private parseLet(): Stmt {
    const kw = this.next();
    const name = this.nameToken('a variable name', "'let'");
    this.expectSym('=', `after 'let ${name.text}'`);
    return { k: 'let', name: name.text, value: this.parseExpr(), pos: kw.pos };
  }

  /** `NAME = mmap EXPR [PROT] [private|shared] [anon|file "path"]`, options in any order. */
  private parseMmap(): Stmt {
    const target = this.next();
    this.next(); // =
    const m = this.peek();
    if (!this.isWord(m, 'mmap')) {
      const hint = m.kind === 'ident' ? didYouMean(m.text, ['mmap']) : '';
      this.fail(
        m,
        `expected 'mmap' after '${target.text} =', found ${this.describe(m)}` +
          (hint || ` (only mmap results can be assigned; use 'let ${target.text} = ...' for a number)`),
      );
    }
    this.next();
    const size = this.parseExpr();
    let prot: Prot | undefined;
    let shared: boolean | undefined;
    let file: string | undefined;
    let anon = false;
    let stack = false;
    while (this.peek().kind === 'ident') {
      const o = this.next();
      const p = parseProt(o.text);
      if (o.text === 'stack') {
        if (stack) this.fail(o, "'stack' given twice in mmap");
        stack = true;
      } else if (p !== undefined) {
        if (prot !== undefined) this.fail(o, `protection given twice in mmap ('${o.text}')`);
        prot = p;
      } else if (o.text === 'private' || o.text === 'shared') {
        if (shared !== undefined) this.fail(o, `'${o.text}' conflicts with an earlier 'private' or 'shared'`);
        shared = o.text === 'shared';
      } else if (o.text === 'anon' || o.text === 'file') {
        if (anon || file !== undefined) this.fail(o, `'${o.text}' conflicts with an earlier 'anon' or 'file'`);
        if (o.text === 'anon') {
          anon = true;
        } else {
          const path = this.peek();
          if (path.kind !== 'str') this.expected(`a file path string after 'file' (e.g. file "/tmp/data")`);
          this.next();
          file = path.str!;
        }
      } else if (/^[rwx]+$/.test(o.text)) {
        this.fail(o, `invalid protection '${o.text}': use each of r, w, x at most once, or 'none'`);
      } else {
        this.fail(o, `unknown mmap option '${o.text}' (expected a protection such as rw, r, rwx or none, 'private', 'shared', 'anon', 'file "path"' or 'stack')${didYouMean(o.text, MMAP_OPTIONS)}`);
      }
    }
    if (stack && (file !== undefined || shared === true)) this.fail(target, "a 'stack' mapping is private anonymous memory");
    return {
      k: 'mmap',
      target: target.text,
      size,
      prot: prot ?? { read: true, write: true, exec: false },
      shared: shared ?? false,
      ...(file !== undefined ? { file } : {}),
      ...(stack ? { stack } : {}),
      pos: target.pos,
    };
  }

  /** `offset EXPR` / `length EXPR` clauses, in any order, each at most once. */
  private parseRange(stmt: string): { offset?: Expr; length?: Expr } {
    const r: { offset?: Expr; length?: Expr } = {};
    while (this.peek().kind === 'ident') {
      const o = this.next();
      if (o.text === 'offset' || o.text === 'length') {
        if (r[o.text] !== undefined) this.fail(o, `'${o.text}' given twice in ${stmt}`);
        r[o.text] = this.parseExpr();
      } else {
        this.fail(o, `unknown ${stmt} option '${o.text}' (expected 'offset' or 'length')${didYouMean(o.text, RANGE_OPTIONS)}`);
      }
    }
    return r;
  }

  /** `munmap NAME [offset EXPR] [length EXPR]` */
  private parseMunmap(): Stmt {
    const kw = this.next();
    const region = this.nameToken('a region name', "'munmap'").text;
    const r = this.parseRange('munmap');
    return { k: 'munmap', region, ...r, pos: kw.pos };
  }

  /** `mprotect NAME PROT [offset EXPR] [length EXPR]` */
  private parseMprotect(): Stmt {
    const kw = this.next();
    const region = this.nameToken('a region name', "'mprotect'").text;
    const p = this.peek();
    const prot = p.kind === 'ident' ? parseProt(p.text) : undefined;
    if (prot === undefined) {
      this.fail(p, `expected a protection (such as rw, r, rwx or none) after 'mprotect ${region}', found ${this.describe(p)}`);
    }
    this.next();
    const r = this.parseRange('mprotect');
    return { k: 'mprotect', region, prot, ...r, pos: kw.pos };
  }

  /** `touch NAME read|write [seq|stride EXPR|random EXPR] [offset EXPR] [length EXPR] [count NAME]` */
  private parseTouch(): Stmt {
    const kw = this.next();
    const region = this.nameToken('a region name', "'touch'").text;
    const a = this.peek();
    if (!(a.kind === 'ident' && (a.text === 'read' || a.text === 'write'))) {
      this.expected(`'read' or 'write' after 'touch ${region}'`, ['read', 'write']);
    }
    this.next();
    const access = a.text as 'read' | 'write';
    let pattern: { p: 'seq' | 'stride' | 'random'; tok: Token; arg?: Expr } | undefined;
    let offset: Expr | undefined;
    let length: Expr | undefined;
    let counter: string | undefined;
    while (this.peek().kind === 'ident') {
      const o = this.next();
      switch (o.text) {
        case 'seq':
        case 'stride':
        case 'random':
          if (pattern !== undefined) {
            this.fail(o, `access pattern given twice in touch ('${pattern.tok.text}' and '${o.text}')`);
          }
          pattern = o.text === 'seq' ? { p: 'seq', tok: o } : { p: o.text, tok: o, arg: this.parseExpr() };
          break;
        case 'offset':
          if (offset !== undefined) this.fail(o, "'offset' given twice in touch");
          offset = this.parseExpr();
          break;
        case 'length':
          if (length !== undefined) this.fail(o, "'length' given twice in touch");
          length = this.parseExpr();
          break;
        case 'count':
          if (counter !== undefined) this.fail(o, "'count' given twice in touch");
          counter = this.nameToken('a counter name', "'count'").text;
          break;
        default:
          this.fail(o, `unknown touch option '${o.text}' (expected 'seq', 'stride', 'random', 'offset', 'length' or 'count')${didYouMean(o.text, TOUCH_OPTIONS)}`);
      }
    }
    return {
      k: 'touch',
      region,
      access,
      pattern: pattern?.p ?? 'seq',
      ...(pattern?.arg !== undefined ? { arg: pattern.arg } : {}),
      ...(offset !== undefined ? { offset } : {}),
      ...(length !== undefined ? { length } : {}),
      ...(counter !== undefined ? { counter } : {}),
      pos: kw.pos,
    };
  }

  // ---------------------------------------------------------------- expressions

  /** EXPR: `||` < `&&` < comparisons < `+ -` < `* / %` < unary `- !` < primary. */
  parseExpr(): Expr {
    return this.parseOr();
  }

  private parseOr(): Expr {
    let a = this.parseAnd();
    while (this.isSym(this.peek(), '||')) {
      const op = this.next();
      a = { k: 'bin', op: '||', a, b: this.parseAnd(), pos: op.pos };
    }
    return a;
  }

  private parseAnd(): Expr {
    let a = this.parseCmp();
    while (this.isSym(this.peek(), '&&')) {
      const op = this.next();
      a = { k: 'bin', op: '&&', a, b: this.parseCmp(), pos: op.pos };
    }
    return a;
  }

  /** Comparisons do not chain: `a < b < c` is an error. */
  private parseCmp(): Expr {
    const a = this.parseAdd();
    const t = this.peek();
    if (t.kind !== 'sym' || !COMPARISON_OPS.has(t.text)) return a;
    this.next();
    const e: Expr = { k: 'bin', op: t.text as BinOp, a, b: this.parseAdd(), pos: t.pos };
    const u = this.peek();
    if (u.kind === 'sym' && COMPARISON_OPS.has(u.text)) {
      this.fail(u, `comparisons cannot be chained ('${t.text}' then '${u.text}'); combine them with '&&'`);
    }
    return e;
  }

  private parseAdd(): Expr {
    let a = this.parseMul();
    for (;;) {
      const t = this.peek();
      if (!(this.isSym(t, '+') || this.isSym(t, '-'))) return a;
      this.next();
      a = { k: 'bin', op: t.text as BinOp, a, b: this.parseMul(), pos: t.pos };
    }
  }

  private parseMul(): Expr {
    let a = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (!(this.isSym(t, '*') || this.isSym(t, '/') || this.isSym(t, '%'))) return a;
      this.next();
      a = { k: 'bin', op: t.text as BinOp, a, b: this.parseUnary(), pos: t.pos };
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (this.isSym(t, '-') || this.isSym(t, '!')) {
      this.next();
      this.enter(t);
      const a = this.parseUnary();
      this.leave();
      return t.text === '-' ? { k: 'neg', a, pos: t.pos } : { k: 'not', a, pos: t.pos };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    const after = this.prev();
    const expectedExpr = (): never =>
      this.fail(t, `expected an expression after ${this.describe(after)}, found ${t.kind === 'ident' ? 'keyword ' : ''}${this.describe(t)}`);
    switch (t.kind) {
      case 'num':
        this.next();
        return t.unit !== undefined ? { k: 'num', v: t.value!, unit: t.unit, pos: t.pos } : { k: 'num', v: t.value!, pos: t.pos };
      case 'param':
        this.next();
        return { k: 'param', name: t.str!, pos: t.pos };
      case 'str':
        // A word: only meaningful in `==` / `!=` (the checker says so elsewhere).
        this.next();
        return { k: 'str', s: t.str!, pos: t.pos };
      case 'ident': {
        if (this.isSym(this.peek(1), '(')) return this.parseCall();
        if (RESERVED_WORDS.has(t.text)) return expectedExpr();
        this.next();
        return { k: 'var', name: t.text, pos: t.pos };
      }
      case 'sym':
        if (t.text === '(') {
          this.next();
          this.enter(t);
          const e = this.parseExpr();
          this.leave();
          const c = this.peek();
          if (!this.isSym(c, ')')) {
            this.fail(c, `expected ')' to close the '(' at column ${t.pos.col}, found ${this.describe(c)}`);
          }
          this.next();
          return e;
        }
        return expectedExpr();
      default:
        return expectedExpr();
    }
  }

  /** `fn(args)` for a built-in function; `pages(REGION)` takes a region name. */
  private parseCall(): Expr {
    const fn = this.next();
    const arity = FUNCTIONS.get(fn.text);
    if (arity === undefined) {
      this.fail(fn, `unknown function '${fn.text}' (known: ${[...FUNCTIONS.keys()].join(', ')})${didYouMean(fn.text, FUNCTIONS.keys())}`);
    }
    const open = this.next(); // (
    this.enter(open);
    const args: Expr[] = [];
    if (fn.text === 'pages') {
      const r = this.peek();
      if (r.kind !== 'ident' || RESERVED_WORDS.has(r.text)) {
        this.fail(r, `pages() takes a region name, found ${this.describe(r)}`);
      }
      this.next();
      args.push({ k: 'var', name: r.text, pos: r.pos });
    } else if (!this.isSym(this.peek(), ')')) {
      args.push(this.parseExpr());
      while (this.isSym(this.peek(), ',')) {
        this.next();
        args.push(this.parseExpr());
      }
    }
    const c = this.peek();
    if (!this.isSym(c, ')')) {
      this.fail(c, `expected ',' or ')' in the arguments of ${fn.text}(), found ${this.describe(c)}`);
    }
    this.next();
    this.leave();
    const [lo, hi] = arity;
    if (args.length < lo || args.length > hi) {
      const want = lo === hi ? `${lo} argument${lo === 1 ? '' : 's'}` : `at least ${lo} arguments`;
      this.fail(fn, `${fn.text}() takes ${want}, got ${args.length}`);
    }
    return { k: 'call', fn: fn.text, args, pos: fn.pos };
  }
}

/**
 * The source text of a parameter's default expression (e.g. `128M`, `$ncpus * 2`), for listings.
 * Falls back to '' if the declaration cannot be found in `w.source` (IR from another front end).
 */
export function paramDefaultText(w: Workload, decl: ParamDecl): string {
  let tokens: readonly Token[];
  try {
    tokens = lex(w.source, w.file).tokens;
  } catch {
    return '';
  }
  const at = tokens.findIndex((t) => t.pos.line === decl.pos.line && t.pos.col === decl.pos.col && t.kind === 'ident');
  if (at < 0 || tokens[at + 1]?.text !== '=') return '';
  const first = tokens[at + 2];
  if (first === undefined || first.kind === 'sep' || first.kind === 'eof') return '';
  let last = first;
  for (let j = at + 2; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind === 'sep' || t.kind === 'eof') break;
    last = t;
  }
  return w.source.slice(first.start, last.end);
}
