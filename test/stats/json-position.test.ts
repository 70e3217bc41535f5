import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { jsonSyntaxProblem, parseJsonAt } from '../../src/stats/json-position.js';

const parses = (t: string): boolean => {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
};

describe('jsonSyntaxProblem', () => {
  test('names the line and column of the first character that cannot be there', () => {
    expect(jsonSyntaxProblem('{\n  "a": 1,\n}')).toEqual({ offset: 12, line: 3, col: 1, message: "expected a property name in double quotes, found '}'" });
    expect(jsonSyntaxProblem('{"a": tru}')).toMatchObject({ line: 1, col: 7, message: "expected a value, found 't'" });
    expect(jsonSyntaxProblem('[1 2]')).toMatchObject({ line: 1, col: 4, message: "expected ',' or ']', found '2'" });
    expect(jsonSyntaxProblem('[1,]')).toMatchObject({ col: 4, message: "expected a value, found ']'" });
    expect(jsonSyntaxProblem('{"a":1')).toMatchObject({ col: 7, message: "expected ',' or '}', found the end of the text" });
    expect(jsonSyntaxProblem('')).toMatchObject({ line: 1, col: 1, message: 'expected a value, found the end of the text' });
    expect(jsonSyntaxProblem('{} x')).toMatchObject({ col: 4, message: "expected the end of the text after the JSON value, found 'x'" });
    expect(jsonSyntaxProblem('"a\tb"')).toMatchObject({ col: 3, message: `expected a character of the string or '"', found a control character (0x09)` });
    expect(jsonSyntaxProblem('"\\x"')).toMatchObject({ col: 2, message: "bad escape '\\x' in a string" });
    expect(jsonSyntaxProblem('01')).toMatchObject({ col: 2 });
    expect(jsonSyntaxProblem('-')).toMatchObject({ col: 2, message: 'expected a digit, found the end of the text' });
    expect(jsonSyntaxProblem('1.e5')).toMatchObject({ col: 3 });
  });

  test('a deep nesting is scanned without recursion', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    expect(jsonSyntaxProblem(deep)).toBeNull();
    expect(jsonSyntaxProblem(deep + ']')).toMatchObject({ offset: 200000 });
  });

  test('accepts exactly what JSON.parse accepts (valid JSON, and JSON with one character changed)', () => {
    const mutated = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '0', '-', '.', 'e', 't', ' ', '\n', 'x', '\u0001'))
      .map(([j, n, op, c]) => {
        const at = j.length === 0 ? 0 : n % (j.length + (op === 'insert' ? 1 : 0));
        if (op === 'delete') return j.slice(0, at) + j.slice(at + 1);
        if (op === 'insert') return j.slice(0, at) + c + j.slice(at);
        return j.slice(0, at) + c + j.slice(at + 1);
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated), (t) => {
        expect(jsonSyntaxProblem(t) === null).toBe(parses(t));
      }),
      { numRuns: 1000 },
    );
  });

  test('parseJsonAt: the value, or name:line:col and what was expected', () => {
    expect(parseJsonAt('{"a": [1]}', 'f.json')).toEqual({ a: [1] });
    expect(() => parseJsonAt('{"a": [1}', 'f.json')).toThrow("f.json:1:9: expected ',' or ']', found '}'");
  });
});
