/**
 * Where a JSON text stops being JSON (RFC 8259), as `line:col` with what was expected there.
 * JSON.parse says where only for some of its errors (Node 20: "Unexpected token '}', ... is not
 * valid JSON" has no position), so a reader that must name `file:line:col` runs this scan once
 * JSON.parse has failed. A scan of its own, with an explicit stack (no recursion, so a deeply
 * nested text cannot overflow it); it accepts exactly what JSON.parse accepts.
 */

export interface JsonSyntaxProblem {
  /** Offset of the first character that cannot be there (the text's length at its end). */
  readonly offset: number;
  /** 1-based line and column (columns count UTF-16 code units, as an editor's usually do). */
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const DIGIT = /[0-9]/;
const ESCAPE = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** What is at `i`, for a message: the character quoted, or "the end". */
function found(text: string, i: number): string {
  if (i >= text.length) return 'the end of the text';
  const c = text[i];
  const code = c.charCodeAt(0);
  return code < 0x20 ? `a control character (0x${code.toString(16).padStart(2, '0')})` : `'${c}'`;
}

class Fail {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** The end of the JSON string that starts (with its quote) at `i`. */
function scanString(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    if (j >= text.length) throw new Fail(j, 'unterminated string: expected \'"\', found the end of the text');
    const c = text[j];
    if (c === '"') return j + 1;
    if (c.charCodeAt(0) < 0x20) throw new Fail(j, `expected a character of the string or '"', found ${found(text, j)}`);
    if (c === '\\') {
      const e = text[j + 1];
      if (e === 'u') {
        if (!HEX4.test(text.slice(j + 2, j + 6))) throw new Fail(j, 'bad escape: \\u takes four hex digits');
        j += 6;
      } else if (e !== undefined && ESCAPE.has(e)) {
        j += 2;
      } else {
        throw new Fail(j, `bad escape '\\${e ?? ''}' in a string`);
      }
      continue;
    }
    j++;
  }
}

/** The end of the number that starts at `i`. */
function scanNumber(text: string, i: number): number {
  let j = i;
  if (text[j] === '-') j++;
  if (text[j] === '0') j++;
  else if (text[j] !== undefined && /[1-9]/.test(text[j])) while (DIGIT.test(text[j] ?? '')) j++;
  else throw new Fail(j, `expected a digit, found ${found(text, j)}`);
  if (text[j] === '.') {
    j++;
    if (!DIGIT.test(text[j] ?? '')) throw new Fail(j, `expected a digit after '.', found ${found(text, j)}`);
    while (DIGIT.test(text[j] ?? '')) j++;
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    if (!DIGIT.test(text[j] ?? '')) throw new Fail(j, `expected a digit of the exponent, found ${found(text, j)}`);
    while (DIGIT.test(text[j] ?? '')) j++;
  }
  return j;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  return i;
}

/** Scan the whole text; throws Fail at the first problem. */
function scan(text: string): void {
  // What each open container expects next: a value (or its end), or a separator (or its end).
  const stack: ('[' | '{')[] = [];
  let i = skipWs(text, 0);
  // The state machine's states: a value is due; a value was just read.
  let want: 'value' | 'firstValue' | 'key' | 'firstKey' | 'after' = 'value';
  for (;;) {
    if (want === 'value' || want === 'firstValue') {
      const c = text[i];
      if (want === 'firstValue' && c === ']') {
        stack.pop();
        i = skipWs(text, i + 1);
        want = 'after';
        continue;
      }
      if (c === '{') {
        stack.push('{');
        i = skipWs(text, i + 1);
        want = 'firstKey';
        continue;
      }
      if (c === '[') {
        stack.push('[');
        i = skipWs(text, i + 1);
        want = 'firstValue';
        continue;
      }
      if (c === '"') i = scanString(text, i);
      else if (c === '-' || (c !== undefined && DIGIT.test(c))) i = scanNumber(text, i);
      else {
        const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
        if (word === undefined) throw new Fail(i, `expected a value, found ${found(text, i)}`);
        i += word.length;
      }
      i = skipWs(text, i);
      want = 'after';
      continue;
    }
    if (want === 'key' || want === 'firstKey') {
      if (want === 'firstKey' && text[i] === '}') {
        stack.pop();
        i = skipWs(text, i + 1);
        want = 'after';
        continue;
      }
      if (text[i] !== '"') throw new Fail(i, `expected a property name in double quotes, found ${found(text, i)}`);
      i = skipWs(text, scanString(text, i));
      if (text[i] !== ':') throw new Fail(i, `expected ':' after the property name, found ${found(text, i)}`);
      i = skipWs(text, i + 1);
      want = 'value';
      continue;
    }
    // after a value
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (i < text.length) throw new Fail(i, `expected the end of the text after the JSON value, found ${found(text, i)}`);
      return;
    }
    const close = top === '[' ? ']' : '}';
    if (text[i] === ',') {
      i = skipWs(text, i + 1);
      want = top === '[' ? 'value' : 'key';
    } else if (text[i] === close) {
      stack.pop();
      i = skipWs(text, i + 1);
    } else {
      throw new Fail(i, `expected ',' or '${close}', found ${found(text, i)}`);
    }
  }
}

/** The first syntax problem of `text`, or null when it is JSON. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  try {
    scan(text);
    return null;
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    let line = 1;
    let start = 0;
    for (let k = text.indexOf('\n'); k !== -1 && k < e.offset; k = text.indexOf('\n', k + 1)) {
      line++;
      start = k + 1;
    }
    return { offset: e.offset, line, col: e.offset - start + 1, message: e.message };
  }
}

/**
 * JSON.parse, with a syntax error as `name:line:col: what was expected` (the Error's message).
 * A leading BOM is the caller's to strip.
 */
export function parseJsonAt(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const p = jsonSyntaxProblem(text);
    // JSON.parse and the scan agree on what is JSON (test/stats/json-position.test.ts).
    throw new Error(p === null ? `${name}: not JSON` : `${name}:${p.line}:${p.col}: ${p.message}`);
  }
}
