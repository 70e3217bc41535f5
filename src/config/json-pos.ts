/**
 * A strict JSON reader (RFC 8259) that remembers where each value and member name stands, so that
 * an error in a machine file (src/config/machine-file.ts) names its line and column: JSON.parse
 * gives neither a position nor the path of a value. A repeated member name is an error (JSON.parse
 * would keep the last one silently). The syntax is checked first by the one JSON scan that names
 * line and column (src/stats/json-position.ts, which plot's sweep.json reader uses too); the walk
 * that records the positions then reads a text that is JSON.
 */
import { jsonSyntaxProblem } from '../stats/json-position.js';

/** Line and column, both from 1 (a tab is one column). */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

/** A syntax error at a position. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly pos: Pos,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'JsonSyntaxError';
  }
}

export interface PositionedJson {
  readonly value: unknown;
  /** Where the value at each path starts (`$`, `$.a.b`, `$.a[2]`). */
  readonly at: ReadonlyMap<string, Pos>;
  /** Where the name of the member at each path starts. */
  readonly keyAt: ReadonlyMap<string, Pos>;
}

/** `$.name` for an identifier-like name, `$["odd name"]` otherwise. */
export function memberPath(parent: string, name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${parent}.${name}` : `${parent}[${JSON.stringify(name)}]`;
}

/** Deepest nesting the positioned walk (recursive) takes: a machine file nests 4 deep. */
const MAX_DEPTH = 64;
/** A number, true, false or null: what runs up to the next delimiter (the text is JSON). */
const LITERAL = /[^,\]}\s]+/y;

export function parseJsonPositioned(text: string): PositionedJson {
  const problem = jsonSyntaxProblem(text);
  if (problem !== null) throw new JsonSyntaxError({ line: problem.line, col: problem.col }, problem.message);
  const at = new Map<string, Pos>();
  const keyAt = new Map<string, Pos>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (): Pos => ({ line, col: i - lineStart + 1 });
  const ws = (): void => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        lineStart = i + 1;
      } else if (c !== 32 && c !== 9 && c !== 13) break;
    }
  };
  // A string (no line end can be inside one): to its closing quote, decoded by JSON.parse.
  const str = (): string => {
    const start = i;
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth: number): unknown => {
    ws();
    at.set(path, pos());
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(pos(), `nested more than ${MAX_DEPTH} deep`);
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      if (text[i] === close) {
        i++;
        return c === '{' ? obj : arr;
      }
      for (;;) {
        if (c === '[') arr.push(value(`${path}[${arr.length}]`, depth + 1));
        else {
          ws();
          const keyPos = pos();
          const key = str();
          const p = memberPath(path, key);
          if (Object.hasOwn(obj, key)) throw new JsonSyntaxError(keyPos, `${p}: the member '${key}' is given twice`);
          keyAt.set(p, keyPos);
          ws();
          i++; // ':'
          obj[key] = value(p, depth + 1);
        }
        ws();
        if (text[i++] === close) return c === '{' ? obj : arr; // else ','
      }
    }
    if (c === '"') return str();
    LITERAL.lastIndex = i;
    const m = LITERAL.exec(text)![0];
    i += m.length;
    return JSON.parse(m) as unknown;
  };
  return { value: value('$', 0), at, keyAt };
}
