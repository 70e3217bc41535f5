import type { BinOp, Expr, ParamDecl, Pos, Prot, Stmt, Workload } from './ir.js';
import { lex, type Comment, type Token } from './lexer.js';
import { didYouMean, syntaxError } from './source.js';

/**
 * The parts of the workload parser (parser.ts) below statements: the keywords, the token cursor
 * and its error messages, the expression grammar, and what is read from a script's text besides
 * its IR (its name, its description, a parameter's default as written). Pure: no I/O.
 */

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


/** Words that start a statement inside a process body. */
export const STATEMENT_KEYWORDS: readonly string[] = [
  'threads', 'loop', 'if', 'let', 'mmap', 'munmap', 'mprotect', 'touch', 'compute', 'barrier', 'count',
  'fork', 'madvise', 'sleep', 'mremap', 'write', 'expect', 'parallel', 'phase',
];

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
  ['random', [2, 2]],
  ['uniform', [2, 2]],
  ['choose', [2, Infinity]],
] as const);

const COMPARISON_OPS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** Deepest nesting of blocks or parenthesised expressions accepted (keeps recursion bounded). */
const MAX_DEPTH = 100;

/** A cursor over a script's tokens, with the expression grammar; Parser adds the statements. */
export class TokenParser {
  protected readonly toks: readonly Token[];
  protected readonly commentByLine: ReadonlyMap<number, Comment>;
  protected i = 0;
  protected depth = 0;

  constructor(
    protected readonly source: string,
    protected readonly file: string,
  ) {
    const { tokens, comments } = lex(source, file);
    this.toks = tokens;
    this.commentByLine = new Map(comments.map((c) => [c.pos.line, c]));
  }

  // ---------------------------------------------------------------- token helpers

  protected peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  protected next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  protected prev(): Token {
    return this.toks[Math.max(0, this.i - 1)]!;
  }

  protected isSym(t: Token, text: string): boolean {
    return t.kind === 'sym' && t.text === text;
  }

  protected isWord(t: Token, text: string): boolean {
    return t.kind === 'ident' && t.text === text;
  }

  /** True at the end of a statement: a separator, `}` or end of file (nothing is consumed). */
  protected atStatementEnd(): boolean {
    const t = this.peek();
    return t.kind === 'sep' || t.kind === 'eof' || this.isSym(t, '}');
  }

  protected fail(at: Token | Pos, detail: string): never {
    const pos = 'kind' in at ? at.pos : at;
    throw syntaxError(this.file, this.source, pos, detail);
  }

  /** How a token is named in messages. */
  protected describe(t: Token): string {
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
  protected expected(what: string, suggestions: readonly string[] = []): never {
    const t = this.peek();
    const hint = t.kind === 'ident' ? didYouMean(t.text, suggestions) : '';
    this.fail(t, `expected ${what}, found ${this.describe(t)}${hint}`);
  }

  protected expectSym(text: string, context: string, suggestions: readonly string[] = []): Token {
    const t = this.peek();
    if (!this.isSym(t, text)) this.expected(`'${text}' ${context}`, suggestions);
    return this.next();
  }

  protected skipSeps(): void {
    while (this.peek().kind === 'sep') this.next();
  }

  /** After a statement or declaration: a separator (consumed), `}` or end of file must follow. */
  protected endStatement(what: string): void {
    const t = this.peek();
    if (t.kind === 'sep') {
      this.next();
      return;
    }
    if (t.kind === 'eof' || this.isSym(t, '}')) return;
    this.fail(t, `expected end of line after ${what}, found ${this.describe(t)}`);
  }

  /** A name for a region, variable, counter, barrier or process: an identifier, not a keyword. */
  protected nameToken(what: string, after: string): Token {
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

  protected enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) this.fail(t, `nested too deeply (more than ${MAX_DEPTH} levels)`);
  }

  protected leave(): void {
    this.depth--;
  }

  // ---------------------------------------------------------------- expressions

  /** `write NAME EXPR [offset EXPR]`, `expect NAME EXPR [offset EXPR]` */
  protected parseValue(k: 'write' | 'expect'): Stmt {
    const kw = this.next();
    const region = this.nameToken('a region name', `'${k}'`).text;
    if (this.atStatementEnd()) this.expected(`a value after '${k} ${region}'`);
    const value = this.parseExpr();
    const o = this.peek();
    if (o.kind === 'ident' && o.text !== 'offset') this.fail(o, `unknown ${k} option '${o.text}' (expected 'offset')`);
    const offset = o.kind === 'ident' ? (this.next(), this.parseExpr()) : undefined;
    return { k, region, value, ...(offset !== undefined ? { offset } : {}), pos: kw.pos };
  }

  /** EXPR: `||` < `&&` < comparisons < `+ -` < `* / %` < unary `- !` < primary. */
  parseExpr(): Expr {
    return this.parseOr();
  }

  protected parseOr(): Expr {
    let a = this.parseAnd();
    while (this.isSym(this.peek(), '||')) {
      const op = this.next();
      a = { k: 'bin', op: '||', a, b: this.parseAnd(), pos: op.pos };
    }
    return a;
  }

  protected parseAnd(): Expr {
    let a = this.parseCmp();
    while (this.isSym(this.peek(), '&&')) {
      const op = this.next();
      a = { k: 'bin', op: '&&', a, b: this.parseCmp(), pos: op.pos };
    }
    return a;
  }

  /** Comparisons do not chain: `a < b < c` is an error. */
  protected parseCmp(): Expr {
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

  protected parseAdd(): Expr {
    let a = this.parseMul();
    for (;;) {
      const t = this.peek();
      if (!(this.isSym(t, '+') || this.isSym(t, '-'))) return a;
      this.next();
      a = { k: 'bin', op: t.text as BinOp, a, b: this.parseMul(), pos: t.pos };
    }
  }

  protected parseMul(): Expr {
    let a = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (!(this.isSym(t, '*') || this.isSym(t, '/') || this.isSym(t, '%'))) return a;
      this.next();
      a = { k: 'bin', op: t.text as BinOp, a, b: this.parseUnary(), pos: t.pos };
    }
  }

  protected parseUnary(): Expr {
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

  protected parsePrimary(): Expr {
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
  protected parseCall(): Expr {
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
