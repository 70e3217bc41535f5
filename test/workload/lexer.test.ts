import { describe, expect, test } from 'vitest';
import { lex, parseNumberLiteral, type Token } from '../../src/workload/lexer.js';
import { syntaxErrorOf } from './helpers.js';

const kinds = (src: string): string[] => lex(src, 't.spf').tokens.map((t) => `${t.kind}:${t.text}`);
const num = (src: string): Token => {
  const t = lex(src, 't.spf').tokens[0]!;
  expect(t.kind).toBe('num');
  return t;
};
const lexError = (src: string): string => syntaxErrorOf(() => lex(src, 't.spf')).message;

describe('numbers', () => {
  test.each([
    ['0', 0, undefined],
    ['42', 42, undefined],
    ['1.5', 1.5, undefined],
    ['0x10', 16, undefined],
    ['0XfF', 255, undefined],
    ['4K', 4096, 'bytes'],
    ['128M', 134217728, 'bytes'],
    ['2G', 2 * 1024 ** 3, 'bytes'],
    ['1T', 1024 ** 4, 'bytes'],
    ['4KiB', 4096, 'bytes'],
    ['64MiB', 64 * 1024 ** 2, 'bytes'],
    ['1GiB', 1024 ** 3, 'bytes'],
    ['1.5K', 1536, 'bytes'],
    ['0x10K', 16 * 1024, 'bytes'],
    ['10ns', 10, 'ns'],
    ['5us', 5000, 'ns'],
    ['3ms', 3_000_000, 'ns'],
    ['2s', 2_000_000_000, 'ns'],
    ['0.1s', 100_000_000, 'ns'],
    ['0.3s', 300_000_000, 'ns'],
    ['1.25ms', 1_250_000, 'ns'],
  ])('%s', (src, value, unit) => {
    const t = num(src);
    expect(t.value).toBe(value);
    expect(t.unit).toBe(unit);
    expect(t.text).toBe(src);
  });

  test('errors', () => {
    expect(lexError('12MB')).toBe(
      "t.spf:1:1: unknown unit 'MB' in number '12MB' (sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s); did you mean '12M'?",
    );
    expect(lexError('x = 5sec')).toBe(
      "t.spf:1:5: unknown unit 'sec' in number '5sec' (sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s); did you mean '5s'?",
    );
    expect(lexError('4k')).toMatch(/did you mean '4K'\?$/);
    expect(lexError('3q')).toBe(
      "t.spf:1:1: unknown unit 'q' in number '3q' (sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s)",
    );
    expect(lexError('1.1K')).toBe("t.spf:1:1: '1.1K' is not a whole number of bytes");
    expect(lexError('0.5ns')).toBe("t.spf:1:1: '0.5ns' is not a whole number of nanoseconds");
    expect(lexError('1.')).toBe("t.spf:1:1: expected digits after '.' in number '1.'");
    expect(lexError('0x')).toBe("t.spf:1:1: expected hex digits after '0x'");
    expect(lexError('0xffffffffffffffff')).toBe("t.spf:1:1: number '0xffffffffffffffff' is too large");
    expect(lexError('99999999999999999999')).toBe("t.spf:1:1: number '99999999999999999999' is too large");
    expect(lexError('  .5')).toBe("t.spf:1:3: a number must start with a digit: write '0.5'");
  });

  test('parseNumberLiteral (command-line values)', () => {
    expect(parseNumberLiteral('64M')).toEqual({ ok: true, lit: { value: 64 * 1024 ** 2, unit: 'bytes' } });
    expect(parseNumberLiteral('16')).toEqual({ ok: true, lit: { value: 16 } });
    expect(parseNumberLiteral('2s')).toEqual({ ok: true, lit: { value: 2e9, unit: 'ns' } });
    expect(parseNumberLiteral('abc')).toEqual({ ok: false, message: "'abc' is not a number (expected e.g. 16, 0x10, 64M, 2s)" });
    expect(parseNumberLiteral('2 s')).toEqual({ ok: false, message: "'2 s' is not a number (expected e.g. 16, 0x10, 64M, 2s)" });
    expect(parseNumberLiteral('2x')).toMatchObject({ ok: false, message: expect.stringContaining("unknown unit 'x'") });
  });
});

describe('tokens', () => {
  test('identifiers, params, strings, symbols', () => {
    expect(kinds('x_1 = $size_2 "a b" { } ( ) , + - * / % < <= > >= == != && || !')).toEqual([
      'ident:x_1', 'sym:=', 'param:$size_2', 'str:"a b"', 'sym:{', 'sym:}', 'sym:(', 'sym:)', 'sym:,',
      'sym:+', 'sym:-', 'sym:*', 'sym:/', 'sym:%', 'sym:<', 'sym:<=', 'sym:>', 'sym:>=', 'sym:==',
      'sym:!=', 'sym:&&', 'sym:||', 'sym:!', 'eof:',
    ]);
  });

  test('param and string values', () => {
    const [p, s] = lex('$ncpus "a\\"b\\\\c\\n"', 't').tokens;
    expect(p!.str).toBe('ncpus');
    expect(s!.str).toBe('a"b\\c\n');
  });

  test('newlines and ; are separators; comments are kept aside', () => {
    const r = lex('# head\na 1 # tail\r\nb;c\n', 't.spf');
    expect(r.tokens.map((t) => `${t.kind}:${JSON.stringify(t.text)}`)).toEqual([
      'sep:"\\n"', 'ident:"a"', 'num:"1"', 'sep:"\\n"', 'ident:"b"', 'sep:";"', 'ident:"c"', 'sep:"\\n"', 'eof:""',
    ]);
    expect(r.comments).toEqual([
      { pos: { line: 1, col: 1 }, text: ' head' },
      { pos: { line: 2, col: 5 }, text: ' tail' },
    ]);
  });

  test('positions are 1-based line and column', () => {
    const t = lex('a\n  bb $c\n\t"d"', 't').tokens;
    expect(t.map((x) => [x.text, x.pos.line, x.pos.col])).toEqual([
      ['a', 1, 1], ['\n', 1, 2], ['bb', 2, 3], ['$c', 2, 6], ['\n', 2, 8], ['"d"', 3, 2], ['', 3, 5],
    ]);
  });

  test('errors', () => {
    expect(lexError('a\n  "abc')).toBe('t.spf:2:3: unterminated string');
    expect(lexError('"a\nb"')).toBe('t.spf:1:1: unterminated string');
    expect(lexError('"a\\qb"')).toBe("t.spf:1:3: unknown escape '\\q' in string (known: \\\" \\\\ \\n \\t)");
    expect(lexError('a & b')).toBe("t.spf:1:3: unexpected character '&'; did you mean '&&'?");
    expect(lexError('a | b')).toBe("t.spf:1:3: unexpected character '|'; did you mean '||'?");
    expect(lexError('x @')).toBe("t.spf:1:3: unexpected character '@'");
    expect(lexError('x \u0001')).toBe('t.spf:1:3: unexpected character U+0001');
    expect(lexError('x = $ 1')).toBe("t.spf:1:5: expected a parameter name after '$'");
  });

  test('the error carries the source line for the caret', () => {
    const e = syntaxErrorOf(() => lex('ok\n  x @ y\n', 'f.spf'));
    expect(e.render()).toBe("f.spf:2:5: unexpected character '@'\n  x @ y\n    ^");
  });
});

test('CRLF is one separator at the end of the line text', () => {
  const t = lex('ab\r\ncd', 't').tokens;
  expect(t.map((x) => [x.kind, x.pos.line, x.pos.col])).toEqual([
    ['ident', 1, 1], ['sep', 1, 3], ['ident', 2, 1], ['eof', 2, 3],
  ]);
});
