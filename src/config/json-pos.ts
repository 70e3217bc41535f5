/**
 * A strict JSON reader (RFC 8259) that remembers where each value and member name stands, so that
 * an error in a machine file (src/config/machine-file.ts) names its line and column: JSON.parse
 * gives neither a position nor the path of a value. A repeated member name is an error (JSON.parse
 * would keep the last one silently).
 */

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

export function parseJsonPositioned(text: string): PositionedJson {
  const at = new Map<string, Pos>();
  const keyAt = new Map<string, Pos>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (k = i): Pos => ({ line, col: k - lineStart + 1 });
  const fail = (detail: string, k = i): never => {
    throw new JsonSyntaxError(pos(k), detail);
  };
  const ws = (): void => {
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        lineStart = i + 1;
      } else if (c !== 32 && c !== 9 && c !== 13) break;
    }
  };
  const seen = (): string => (i >= text.length ? 'the end of the file' : `'${text[i]}'`);
  const str = (): string => {
    const start = i;
    i++;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '"') break;
      if (c === '\\') i++;
      else if (c === '\n' || text.charCodeAt(i) < 0x20) fail('a control character (or a line end) inside a string');
    }
    if (i >= text.length) fail('a string that does not end', start);
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('a bad escape in a string', start);
    }
  };
  const value = (path: string): unknown => {
    ws();
    at.set(path, pos());
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a member name in double quotes, got ${seen()}`);
        const keyPos = pos();
        const key = str();
        const p = memberPath(path, key);
        if (Object.hasOwn(obj, key)) throw new JsonSyntaxError(keyPos, `${p}: the member '${key}' is given twice`);
        ws();
        if (text[i] !== ':') fail(`expected ':' after the member name, got ${seen()}`);
        i++;
        keyAt.set(p, keyPos);
        obj[key] = value(p);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail(`expected ',' or '}' after a member, got ${seen()}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail(`expected ',' or ']' after an element, got ${seen()}`);
      }
    }
    if (c === '"') return str();
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m !== null && m[0] !== '' && m[0] !== '-') {
      i += m[0].length;
      return Number(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`expected a value, got ${seen()}`);
  };
  const v = value('$');
  ws();
  if (i < text.length) fail(`expected the end of the file after the value, got ${seen()}`);
  return { value: v, at, keyAt };
}
