import { describe, expect, test } from 'vitest';
import { JsonSyntaxError, memberPath, parseJsonPositioned } from '../../src/config/json-pos.js';

/** The error a text gives: "line:col detail". */
function errorOf(text: string): string {
  try {
    parseJsonPositioned(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return `${e.pos.line}:${e.pos.col} ${e.detail}`;
    throw e;
  }
  throw new Error('parsed');
}

describe('parseJsonPositioned', () => {
  test('reads what JSON.parse reads', () => {
    const texts = ['{}', '[]', '0', '-1.5e3', '"a\\u00e9\\n"', 'true', 'null', '{"a": [1, {"b": false}], "c": "x"}', ' \n\t{ "k" : [ ] }\r\n'];
    for (const t of texts) expect(parseJsonPositioned(t).value, t).toEqual(JSON.parse(t));
  });

  test('remembers where each value and member name starts', () => {
    const { at, keyAt } = parseJsonPositioned('{\n  "a": {\n    "b": [10,\n      20]\n  }\n}');
    expect(at.get('$')).toEqual({ line: 1, col: 1 });
    expect(at.get('$.a')).toEqual({ line: 2, col: 8 });
    expect(keyAt.get('$.a')).toEqual({ line: 2, col: 3 });
    expect(at.get('$.a.b')).toEqual({ line: 3, col: 10 });
    expect(keyAt.get('$.a.b')).toEqual({ line: 3, col: 5 });
    expect(at.get('$.a.b[0]')).toEqual({ line: 3, col: 11 });
    expect(at.get('$.a.b[1]')).toEqual({ line: 4, col: 7 });
  });

  test('a syntax error names its line and column', () => {
    expect(errorOf('{\n  "a": 1,\n}')).toBe("3:1 expected a member name in double quotes, got '}'");
    expect(errorOf('{"a": 1 "b": 2}')).toBe("1:9 expected ',' or '}' after a member, got '\"'");
    expect(errorOf('[1, 2')).toBe("1:6 expected ',' or ']' after an element, got the end of the file");
    expect(errorOf('{"a": tru}')).toBe("1:7 expected a value, got 't'");
    expect(errorOf('{"a": 01}')).toBe("1:8 expected ',' or '}' after a member, got '1'");
    expect(errorOf('{"a": "x\ny"}')).toBe('1:9 a control character (or a line end) inside a string');
    expect(errorOf('{} x')).toBe("1:4 expected the end of the file after the value, got 'x'");
    expect(errorOf('')).toBe('1:1 expected a value, got the end of the file');
  });

  test('a member given twice is an error at its second name (JSON.parse keeps the last silently)', () => {
    expect(errorOf('{"a": 1,\n "a": 2}')).toBe("2:2 $.a: the member 'a' is given twice");
  });

  test('member paths: identifiers with a dot, other names quoted', () => {
    expect(memberPath('$', 'lineLatencies')).toBe('$.lineLatencies');
    expect(memberPath('$.a', 'odd name')).toBe('$.a["odd name"]');
  });
});
