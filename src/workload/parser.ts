/**
 * Recursive-descent parser of the workload DSL: source text to the IR in ./ir.ts. Pure: no I/O.
 * The grammar is documented in docs/workload-language.md, "Grammar"; keep the two in step.
 */
import type { Expr, MadviseAdvice, MetricDecl, ParamDecl, ProcessDecl, Stmt, Workload } from './ir.js';
import { didYouMean } from './source.js';
import { DECLARATION_KEYWORDS, leadingDescription, RESERVED_WORDS, STATEMENT_KEYWORDS, workloadNameOf } from './parse-base.js';
import { OpsParser } from './parse-ops.js';

export { leadingDescription, paramDefaultText, parseProt, workloadNameOf } from './parse-base.js';

/** A phase's name: it becomes part of stat's event names (phase:NAME:EVENT) and CSV fields. */
const PHASE_NAME = /^[A-Za-z0-9._-]+$/;
const MADVISE_ADVICE = ['dontneed', 'hugepage', 'nohugepage', 'pageout', 'populate_read', 'populate_write'];

/** Parse a workload script. Throws WorkloadSyntaxError on the first syntax error. */
export function parseWorkload(source: string, file: string): Workload {
  return new Parser(source, file).parseFile();
}

class Parser extends OpsParser {
  private readonly name: string;

  constructor(source: string, file: string) {
    super(source, file);
    this.name = workloadNameOf(file);
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
      case 'sleep':
        this.next();
        s = { k: t.text, ns: this.parseExpr(), pos: t.pos };
        break;
      case 'write':
      case 'expect':
        s = this.parseValue(t.text);
        break;
      case 'parallel':
        s = this.parseParallel();
        break;
      case 'phase': {
        this.next();
        const n = this.peek();
        if (n.kind !== 'str') this.fail(n, `expected the phase's name as a string after 'phase' (e.g. phase "warm-up" { ... }), found ${this.describe(n)}`);
        if (!PHASE_NAME.test(n.str!)) this.fail(n, `bad phase name "${n.str}": use letters, digits and . _ - (it names stat's rows phase:NAME:EVENT)`);
        this.next();
        s = { k: 'phase', name: n.str!, body: this.parseBlock(`after 'phase "${n.str}"'`), pos: t.pos };
        break;
      }
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
          this.fail(a, `expected advice (dontneed, hugepage, nohugepage, pageout, populate_read or populate_write) after 'madvise ${region}', found ${this.describe(a)}${a.kind === 'ident' ? didYouMean(a.text, MADVISE_ADVICE) : ''}`);
        }
        this.next();
        const r = this.parseRange('madvise');
        s = { k: 'madvise', region, advice: a.text as MadviseAdvice, ...r, pos: t.pos };
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
  /** `parallel { GROUP ... }`: each statement of the block a `threads` or `fork` group. */
  private parseParallel(): Stmt {
    const kw = this.next();
    const body = this.parseBlock("after 'parallel'");
    for (const g of body) {
      if (g.k !== 'threads' && g.k !== 'fork') this.fail(g.pos, `a 'parallel' block holds only 'threads' and 'fork' groups, found '${g.k}' (put it inside a group)`);
    }
    return { k: 'parallel', body, pos: kw.pos };
  }

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
}
