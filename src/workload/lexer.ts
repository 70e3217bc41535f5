/**
 * Lexer of the workload DSL (docs/workload-language.md, "Lexical rules"). Pure: no I/O.
 *
 * Tokens carry 1-based line/column positions. `#` starts a comment running to the end of the
 * line; comments are returned separately (the parser uses them for the file description and
 * parameter docs). Newlines and `;` are both statement separators ('sep' tokens).
 */
import type { Pos } from './ir.js';
import { syntaxError } from './source.js';

export type TokenKind =
  /** Number literal, already scaled to base units (bytes, nanoseconds). */
  | 'num'
  /** Double-quoted string. */
  | 'str'
  /** `$name`. */
  | 'param'
  | 'ident'
  /** Punctuation and operators: { } ( ) , = + - * / % < <= > >= == != && || ! */
  | 'sym'
  /** Statement separator: a newline or `;`. */
  | 'sep'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The token's source text ('\n' for a newline separator, '' at end of file). */
  readonly text: string;
  readonly pos: Pos;
  /** Offsets of the token in the source: [start, end). */
  readonly start: number;
  readonly end: number;
  /** 'num': the scaled value. */
  readonly value?: number;
  /** 'num': the dimension its unit suffix gave it, if any. */
  readonly unit?: 'bytes' | 'ns';
  /** 'str': the decoded contents; 'param': the name without '$'. */
  readonly str?: string;
}

export interface Comment {
  readonly pos: Pos;
  /** The text after the `#`, untrimmed. */
  readonly text: string;
}

export interface LexResult {
  readonly tokens: readonly Token[];
  readonly comments: readonly Comment[];
}

/** Binary size suffixes (1024-based) and duration suffixes, to their multiplier in base units. */
const UNITS: ReadonlyMap<string, { readonly mult: number; readonly unit: 'bytes' | 'ns' }> = new Map([
  ['K', { mult: 1024, unit: 'bytes' }],
  ['M', { mult: 1024 ** 2, unit: 'bytes' }],
  ['G', { mult: 1024 ** 3, unit: 'bytes' }],
  ['T', { mult: 1024 ** 4, unit: 'bytes' }],
  ['KiB', { mult: 1024, unit: 'bytes' }],
  ['MiB', { mult: 1024 ** 2, unit: 'bytes' }],
  ['GiB', { mult: 1024 ** 3, unit: 'bytes' }],
  ['TiB', { mult: 1024 ** 4, unit: 'bytes' }],
  ['ns', { mult: 1, unit: 'ns' }],
  ['us', { mult: 1e3, unit: 'ns' }],
  ['ms', { mult: 1e6, unit: 'ns' }],
  ['s', { mult: 1e9, unit: 'ns' }],
] as const);

/** Common spellings of the units above that the DSL does not accept, for hints. */
const UNIT_HINTS: ReadonlyMap<string, string> = new Map([
  ['k', 'K'], ['kb', 'K'], ['kib', 'KiB'],
  ['mb', 'M'], ['mib', 'MiB'],
  ['g', 'G'], ['gb', 'G'], ['gib', 'GiB'],
  ['t', 'T'], ['tb', 'T'], ['tib', 'TiB'],
  ['sec', 's'], ['secs', 's'], ['msec', 'ms'], ['usec', 'us'], ['nsec', 'ns'],
]);

const UNIT_LIST = 'sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s';

const TWO_CHAR_SYMS = new Set(['<=', '>=', '==', '!=', '&&', '||']);
const ONE_CHAR_SYMS = new Set(['{', '}', '(', ')', ',', '=', '+', '-', '*', '/', '%', '<', '>', '!']);

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}
function isIdentChar(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}
function isHexDigit(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

/** How a character is shown in an error message. */
function showChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${c}'`;
}

export interface NumberLiteral {
  readonly value: number;
  readonly unit?: 'bytes' | 'ns';
}

/**
 * Scan a number literal (with optional unit suffix) at `text[start]`, which must be a digit.
 * Returns the literal and the offset just past it, or an error message (with the offset at fault,
 * always `start`).
 */
export function scanNumber(
  text: string,
  start: number,
): { readonly ok: true; readonly lit: NumberLiteral; readonly end: number } | { readonly ok: false; readonly message: string } {
  let i = start;
  let mantissa: number;
  let fracDigits = 0;
  let digits: string;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    i += 2;
    const ds = i;
    while (isHexDigit(text[i])) i++;
    if (i === ds) {
      return { ok: false, message: `expected hex digits after '${text.slice(start, i)}'` };
    }
    digits = text.slice(ds, i);
    mantissa = parseInt(digits, 16);
  } else {
    while (isDigit(text[i])) i++;
    digits = text.slice(start, i);
    if (text[i] === '.') {
      const dot = i;
      i++;
      const fs = i;
      while (isDigit(text[i])) i++;
      if (i === fs) {
        return { ok: false, message: `expected digits after '.' in number '${text.slice(start, dot + 1)}'` };
      }
      fracDigits = i - fs;
      digits += text.slice(fs, i);
    }
    mantissa = Number(digits);
  }
  const numEnd = i;
  while (isIdentChar(text[i])) i++;
  const raw = text.slice(start, i);
  const suffix = text.slice(numEnd, i);
  let value: number;
  let unit: 'bytes' | 'ns' | undefined;
  if (suffix === '') {
    value = fracDigits > 0 ? Number(raw) : mantissa;
  } else {
    const u = UNITS.get(suffix);
    if (u === undefined) {
      const hint = UNIT_HINTS.get(suffix.toLowerCase());
      const caseHint = [...UNITS.keys()].find((k) => k.toLowerCase() === suffix.toLowerCase());
      const suggestion = hint ?? caseHint;
      return {
        ok: false,
        message:
          `unknown unit '${suffix}' in number '${raw}' (${UNIT_LIST})` +
          (suggestion !== undefined ? `; did you mean '${text.slice(start, numEnd)}${suggestion}'?` : ''),
      };
    }
    unit = u.unit;
    // Exact for decimal fractions: 0.1s is 1e8 ns, 1.5K is 1536 bytes.
    value = (mantissa * u.mult) / 10 ** fracDigits;
    if (!Number.isInteger(value)) {
      return {
        ok: false,
        message: `'${raw}' is not a whole number of ${unit === 'bytes' ? 'bytes' : 'nanoseconds'}`,
      };
    }
  }
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return { ok: false, message: `number '${raw}' is too large` };
  }
  if (!Number.isFinite(value)) {
    return { ok: false, message: `number '${raw}' is too large` };
  }
  return { ok: true, lit: unit === undefined ? { value } : { value, unit }, end: i };
}

/**
 * Parse a whole string as one number literal, e.g. a `name=value` override from the command
 * line. Returns undefined-free result or an error message.
 */
export function parseNumberLiteral(
  text: string,
): { readonly ok: true; readonly lit: NumberLiteral } | { readonly ok: false; readonly message: string } {
  if (!isDigit(text[0])) {
    return { ok: false, message: `'${text}' is not a number (expected e.g. 16, 0x10, 64M, 2s)` };
  }
  const r = scanNumber(text, 0);
  if (!r.ok) return r;
  if (r.end !== text.length) {
    return { ok: false, message: `'${text}' is not a number (expected e.g. 16, 0x10, 64M, 2s)` };
  }
  return { ok: true, lit: r.lit };
}

/** Split `source` into tokens. Throws WorkloadSyntaxError on a lexical error. */
export function lex(source: string, file: string): LexResult {
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = source.length;
  const posAt = (offset: number): Pos => ({ line, col: offset - lineStart + 1 });
  const fail = (offset: number, msg: string): never => {
    throw syntaxError(file, source, posAt(offset), msg);
  };

  while (i < n) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || (c === '\r' && source[i + 1] !== '\n') || c === '\f' || c === '\v' || c === '\uFEFF') {
      i++;
      continue;
    }
    if (c === '\n' || (c === '\r' && source[i + 1] === '\n')) {
      // A CRLF is one separator, placed at the CR (just past the line's text).
      const len = c === '\r' ? 2 : 1;
      tokens.push({ kind: 'sep', text: '\n', pos: posAt(i), start: i, end: i + len });
      i += len;
      line++;
      lineStart = i;
      continue;
    }
    if (c === '#') {
      const s = i;
      while (i < n && source[i] !== '\n') i++;
      let text = source.slice(s + 1, i);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      comments.push({ pos: posAt(s), text });
      continue;
    }
    if (c === ';') {
      tokens.push({ kind: 'sep', text: ';', pos: posAt(i), start: i, end: i + 1 });
      i++;
      continue;
    }
    if (isDigit(c)) {
      const r = scanNumber(source, i);
      if (!r.ok) return fail(i, r.message);
      const tok: Token = {
        kind: 'num',
        text: source.slice(i, r.end),
        pos: posAt(i),
        start: i,
        end: r.end,
        value: r.lit.value,
        ...(r.lit.unit !== undefined ? { unit: r.lit.unit } : {}),
      };
      tokens.push(tok);
      i = r.end;
      continue;
    }
    if (isIdentStart(c)) {
      const s = i;
      while (isIdentChar(source[i])) i++;
      tokens.push({ kind: 'ident', text: source.slice(s, i), pos: posAt(s), start: s, end: i });
      continue;
    }
    if (c === '$') {
      const s = i;
      i++;
      if (!isIdentStart(source[i])) {
        return fail(s, "expected a parameter name after '$'");
      }
      while (isIdentChar(source[i])) i++;
      tokens.push({ kind: 'param', text: source.slice(s, i), pos: posAt(s), start: s, end: i, str: source.slice(s + 1, i) });
      continue;
    }
    if (c === '"') {
      const s = i;
      i++;
      let val = '';
      for (;;) {
        const d = source[i];
        if (d === undefined || d === '\n' || (d === '\r' && source[i + 1] === '\n')) {
          return fail(s, 'unterminated string');
        }
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          const e = source[i + 1];
          if (e === '"' || e === '\\') val += e;
          else if (e === 'n') val += '\n';
          else if (e === 't') val += '\t';
          else if (e === undefined || e === '\n') return fail(s, 'unterminated string');
          else return fail(i, `unknown escape '\\${e}' in string (known: \\" \\\\ \\n \\t)`);
          i += 2;
          continue;
        }
        val += d;
        i++;
      }
      tokens.push({ kind: 'str', text: source.slice(s, i), pos: posAt(s), start: s, end: i, str: val });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_SYMS.has(two)) {
      tokens.push({ kind: 'sym', text: two, pos: posAt(i), start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (ONE_CHAR_SYMS.has(c)) {
      tokens.push({ kind: 'sym', text: c, pos: posAt(i), start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '&' || c === '|') {
      return fail(i, `unexpected character '${c}'; did you mean '${c}${c}'?`);
    }
    if (c === '.' && isDigit(source[i + 1])) {
      let e = i + 1;
      while (isDigit(source[e])) e++;
      return fail(i, `a number must start with a digit: write '0${source.slice(i, e)}'`);
    }
    const cp = source.codePointAt(i)!;
    return fail(i, `unexpected character ${showChar(String.fromCodePoint(cp))}`);
  }
  tokens.push({ kind: 'eof', text: '', pos: posAt(i), start: i, end: i });
  return { tokens, comments };
}
