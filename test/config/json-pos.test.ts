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

  test('a syntax error names its line and column (the scan of src/stats/json-position.ts)', () => {
    expect(errorOf('{\n  "a": 1,\n}')).toBe("3:1 expected a property name in double quotes, found '}'");
    expect(errorOf('{"a": 1 "b": 2}')).toBe("1:9 expected ',' or '}', found '\"'");
    expect(errorOf('[1, 2')).toBe("1:6 expected ',' or ']', found the end of the text");
    expect(errorOf('{"a": tru}')).toBe("1:7 expected a value, found 't'");
    expect(errorOf('{"a": 01}')).toBe("1:8 expected ',' or '}', found '1'");
    expect(errorOf('{"a": "x\ny"}')).toBe(`1:9 expected a character of the string or '"', found a control character (0x0a)`);
    expect(errorOf('{} x')).toBe("1:4 expected the end of the text after the JSON value, found 'x'");
    expect(errorOf('')).toBe('1:1 expected a value, found the end of the text');
  });

  test('nesting deeper than 64 is refused at the value that goes past it, valid or not (no deep recursion)', () => {
    expect(errorOf('['.repeat(70) + ']'.repeat(70))).toBe('1:66 nested more than 64 deep');
    expect(errorOf('['.repeat(100000) + ']'.repeat(100000))).toBe('1:66 nested more than 64 deep');
    expect(parseJsonPositioned('['.repeat(64) + ']'.repeat(64)).at.size).toBe(64);
  });

  test('a member given twice is an error at its second name (JSON.parse keeps the last silently)', () => {
    expect(errorOf('{"a": 1,\n "a": 2}')).toBe("2:2 $.a: the member 'a' is given twice");
  });

  test('member paths: identifiers with a dot, other names quoted', () => {
    expect(memberPath('$', 'lineLatencies')).toBe('$.lineLatencies');
    expect(memberPath('$.a', 'odd name')).toBe('$.a["odd name"]');
  });
});
