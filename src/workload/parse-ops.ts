/**
 * The statements of the workload DSL that are system calls and accesses on a region (mmap,
 * munmap, mprotect, touch and their options), parsed on top of the expression grammar
 * (./parse-base.ts); ./parser.ts adds the blocks, declarations and the other statements.
 */
import type { Expr, Prot, Stmt } from './ir.js';
import type { Token } from './lexer.js';
import { didYouMean } from './source.js';
import { parseProt, TokenParser } from './parse-base.js';

const MMAP_OPTIONS = ['private', 'shared', 'anon', 'file', 'stack', 'populate', 'none', 'r', 'rw', 'rwx'];
const TOUCH_OPTIONS = ['seq', 'stride', 'random', 'offset', 'length', 'count'];
const RANGE_OPTIONS = ['offset', 'length'];

export class OpsParser extends TokenParser {
  /** `NAME = mmap EXPR [PROT] [private|shared] [anon|file "path"]`, options in any order. */
  protected parseMmap(): Stmt {
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
    let populate = false;
    while (this.peek().kind === 'ident') {
      const o = this.next();
      const p = parseProt(o.text);
      if (o.text === 'stack') {
        if (stack) this.fail(o, "'stack' given twice in mmap");
        stack = true;
      } else if (o.text === 'populate') {
        if (populate) this.fail(o, "'populate' given twice in mmap");
        populate = true;
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
        this.fail(o, `unknown mmap option '${o.text}' (expected a protection such as rw, r, rwx or none, 'private', 'shared', 'anon', 'file "path"', 'stack' or 'populate')${didYouMean(o.text, MMAP_OPTIONS)}`);
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
      ...(populate ? { populate } : {}),
      pos: target.pos,
    };
  }

  /** `offset EXPR` / `length EXPR` clauses, in any order, each at most once. */
  protected parseRange(stmt: string): { offset?: Expr; length?: Expr } {
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
  protected parseMunmap(): Stmt {
    const kw = this.next();
    const region = this.nameToken('a region name', "'munmap'").text;
    const r = this.parseRange('munmap');
    return { k: 'munmap', region, ...r, pos: kw.pos };
  }

  /** `mprotect NAME PROT [offset EXPR] [length EXPR]` */
  protected parseMprotect(): Stmt {
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
  protected parseTouch(): Stmt {
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

}
