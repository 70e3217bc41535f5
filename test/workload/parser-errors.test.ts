import { describe, expect, test } from 'vitest';
import { parseWorkload } from '../../src/workload/parser.js';
import { syntaxErrorOf, syntaxMessage } from './helpers.js';

const parse = (src: string) => () => parseWorkload(src, 'e.spf');
/** The error message for `body` as the statements of a process, which start on line 2. */
const inProcess = (body: string): string => syntaxMessage(parse(`process {\n${body}\n}\n`));

describe('statement errors', () => {
  test.each([
    ['threads 4 foo {\n}', "e.spf:2:11: expected '{' after threads count, found 'foo'"],
    ['threads 4 pinn {\n}', "e.spf:2:11: expected '{' after threads count, found 'pinn'; did you mean 'pin'?"],
    ['threads 4 pin foo {\n}', "e.spf:2:15: expected '{' after 'pin', found 'foo'"],
    ['threads {\n}', "e.spf:2:9: expected an expression after 'threads', found '{'"],
    ['threads pin {\n}', "e.spf:2:9: expected an expression after 'threads', found keyword 'pin'"],
    ['threads 4', "e.spf:2:10: expected '{' after threads count, found end of line"],
    ['loop {\n}', "e.spf:2:6: expected a loop count or 'for DURATION' after 'loop', found '{'"],
    ['loop 5 fr 1s {\n}', "e.spf:2:8: expected '{' after loop count, found 'fr'; did you mean 'for'?"],
    ['loop for {\n}', "e.spf:2:10: expected an expression after 'for', found '{'"],
    ['loop for 1s x {\n}', "e.spf:2:13: expected '{' after loop duration, found 'x'"],
    ['if 1 then {\n}', "e.spf:2:6: expected '{' after if condition, found 'then'"],
    ['if 1 {\n} else 5', "e.spf:3:8: expected '{' or 'if' after 'else', found '5'"],
    ['else {\n}', "e.spf:2:1: 'else' without a matching 'if'"],
    ['let = 1', "e.spf:2:5: expected a variable name after 'let', found '='"],
    ['let loop = 1', "e.spf:2:5: expected a variable name after 'let', found keyword 'loop'"],
    ['let $x = 1', "e.spf:2:5: expected a variable name after 'let', found '$x' (a variable name is written without '$')"],
    ['let x 1', "e.spf:2:7: expected '=' after 'let x', found '1'"],
    ['mmap 4K', "e.spf:2:1: the result of 'mmap' must be assigned to a region name: NAME = mmap SIZE ..."],
    ['x mmap 4K', "e.spf:2:3: expected '=' between 'x' and 'mmap'"],
    ['x = 5', "e.spf:2:5: expected 'mmap' after 'x =', found '5' (only mmap results can be assigned; use 'let x = ...' for a number)"],
    ['x = mmp 4K', "e.spf:2:5: expected 'mmap' after 'x =', found 'mmp'; did you mean 'mmap'?"],
    ['x = mmap', "e.spf:2:9: expected an expression after 'mmap', found end of line"],
    ['x = mmap 4K rwz', "e.spf:2:13: unknown mmap option 'rwz' (expected a protection such as rw, r, rwx or none, 'private', 'shared', 'anon', 'file \"path\"', 'stack' or 'populate'); did you mean 'rw'?"],
    ['x = mmap 4K privat', "e.spf:2:13: unknown mmap option 'privat' (expected a protection such as rw, r, rwx or none, 'private', 'shared', 'anon', 'file \"path\"', 'stack' or 'populate'); did you mean 'private'?"],
    ['x = mmap 4K rwr', "e.spf:2:13: invalid protection 'rwr': use each of r, w, x at most once, or 'none'"],
    ['x = mmap 4K r w', "e.spf:2:15: protection given twice in mmap ('w')"],
    ['x = mmap 4K private shared', "e.spf:2:21: 'shared' conflicts with an earlier 'private' or 'shared'"],
    ['x = mmap 4K anon file "f"', "e.spf:2:18: 'file' conflicts with an earlier 'anon' or 'file'"],
    ['x = mmap 4K file', "e.spf:2:17: expected a file path string after 'file' (e.g. file \"/tmp/data\"), found end of line"],
    ['x = mmap 4K 5', "e.spf:2:13: expected end of line after 'mmap' statement, found '5'"],
    ['loop = mmap 4K', "e.spf:2:6: expected an expression after 'loop', found '='"],
    ['munmap', "e.spf:2:7: expected a region name after 'munmap', found end of line"],
    ['munmap x ofset 4K', "e.spf:2:10: unknown munmap option 'ofset' (expected 'offset' or 'length'); did you mean 'offset'?"],
    ['munmap x offset 1 offset 2', "e.spf:2:19: 'offset' given twice in munmap"],
    ['mprotect x', "e.spf:2:11: expected a protection (such as rw, r, rwx or none) after 'mprotect x', found end of line"],
    ['mprotect x rq', "e.spf:2:12: expected a protection (such as rw, r, rwx or none) after 'mprotect x', found 'rq'"],
    ['mprotect x r lenght 4K', "e.spf:2:14: unknown mprotect option 'lenght' (expected 'offset' or 'length'); did you mean 'length'?"],
    ['touch', "e.spf:2:6: expected a region name after 'touch', found end of line"],
    ['touch x', "e.spf:2:8: expected 'read' or 'write' after 'touch x', found end of line"],
    ['touch x wirte', "e.spf:2:9: expected 'read' or 'write' after 'touch x', found 'wirte'; did you mean 'write'?"],
    ['touch x read strid 4', "e.spf:2:14: unknown touch option 'strid' (expected 'seq', 'stride', 'random', 'offset', 'length' or 'count'); did you mean 'stride'?"],
    ['touch x read stride 8 seq', "e.spf:2:23: access pattern given twice in touch ('stride' and 'seq')"],
    ['touch x read random', "e.spf:2:20: expected an expression after 'random', found end of line"],
    ['touch x read offset 1 offset 2', "e.spf:2:23: 'offset' given twice in touch"],
    ['touch x read length 1 length 2', "e.spf:2:23: 'length' given twice in touch"],
    ['touch x read count a count b', "e.spf:2:22: 'count' given twice in touch"],
    ['touch x read count 5', "e.spf:2:20: expected a counter name after 'count', found '5'"],
    ['touch x read 5', "e.spf:2:14: expected end of line after 'touch' statement, found '5'"],
    ['compute', "e.spf:2:8: expected an expression after 'compute', found end of line"],
    ['compute 5 6', "e.spf:2:11: expected end of line after 'compute' statement, found '6'"],
    ['barrier 5', "e.spf:2:9: expected a barrier name after 'barrier', found '5'"],
    ['barrier a b', "e.spf:2:11: expected end of line after 'barrier' statement, found 'b'"],
    ['count', "e.spf:2:6: expected a counter name after 'count', found end of line"],
    ['count loop', "e.spf:2:7: expected a counter name after 'count', found keyword 'loop'"],
    ['count x 1 2', "e.spf:2:11: expected end of line after 'count' statement, found '2'"],
    ['mmapp x', "e.spf:2:1: unknown statement 'mmapp'; did you mean 'mmap'?"],
    ['tuoch x read', "e.spf:2:1: unknown statement 'tuoch'; did you mean 'touch'?"],
    ['thread 4 {\n}', "e.spf:2:1: unknown statement 'thread'; did you mean 'threads'?"],
    ['frobnicate', "e.spf:2:1: unknown statement 'frobnicate'"],
    ['x', "e.spf:2:1: unknown statement 'x'"],
    ['for', "e.spf:2:1: expected a statement, found keyword 'for'"],
    ['5', "e.spf:2:1: expected a statement, found '5'"],
    ['{', "e.spf:2:1: expected a statement, found '{'"],
    ['param a = 1', "e.spf:2:1: 'param' declarations are only allowed at the top level, not inside a block"],
    ['process {\n}', "e.spf:2:1: 'process' declarations are only allowed at the top level, not inside a block"],
    ['parallel {\n  count x\n}', "e.spf:3:3: a 'parallel' block holds only 'threads' and 'fork' groups, found 'count' (put it inside a group)"],
    ['parallel 2 {\n}', "e.spf:2:10: expected '{' after 'parallel', found '2'"],
    ['phase {\n}', "e.spf:2:7: expected the phase's name as a string after 'phase' (e.g. phase \"warm-up\" { ... }), found '{'"],
    ['phase "a b" {\n}', 'e.spf:2:7: bad phase name "a b": use letters, digits and . _ - (it names stat\'s rows phase:NAME:EVENT)'],
    ['phase "x:y" {\n}', 'e.spf:2:7: bad phase name "x:y": use letters, digits and . _ - (it names stat\'s rows phase:NAME:EVENT)'],
  ])('%j', (body, message) => {
    expect(inProcess(body)).toBe(message);
  });
});

describe('expression errors', () => {
  test.each([
    ['compute 1 +', "e.spf:2:12: expected an expression after '+', found end of line"],
    ['compute (1 + 2', "e.spf:2:15: expected ')' to close the '(' at column 9, found end of line"],
    ['compute ()', "e.spf:2:10: expected an expression after '(', found ')'"],
    ['compute mn(1, 2)', "e.spf:2:9: unknown function 'mn' (known: min, max, floor, ceil, pages, random, uniform, choose); did you mean 'min'?"],
    ['compute floor(1, 2)', 'e.spf:2:9: floor() takes 1 argument, got 2'],
    ['compute ceil()', 'e.spf:2:9: ceil() takes 1 argument, got 0'],
    ['compute min(1)', 'e.spf:2:9: min() takes at least 2 arguments, got 1'],
    ['compute max(1 2)', "e.spf:2:15: expected ',' or ')' in the arguments of max(), found '2'"],
    ['compute pages(4K)', "e.spf:2:15: pages() takes a region name, found '4K'"],
    ['compute pages(a, b)', "e.spf:2:16: expected ',' or ')' in the arguments of pages(), found ','"],
    ['compute 1 < 2 < 3', "e.spf:2:15: comparisons cannot be chained ('<' then '<'); combine them with '&&'"],
    ['compute 1 == 2 != 3', "e.spf:2:16: comparisons cannot be chained ('==' then '!='); combine them with '&&'"],
    ['compute 1 & 2', "e.spf:2:11: unexpected character '&'; did you mean '&&'?"],
    ['compute -', "e.spf:2:10: expected an expression after '-', found end of line"],
    ['compute !}', "e.spf:2:10: expected an expression after '!', found '}'"],
    ['compute 12MB', "e.spf:2:9: unknown unit 'MB' in number '12MB' (sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s); did you mean '12M'?"],
  ])('%j', (body, message) => {
    expect(inProcess(body)).toBe(message);
  });

  test('nesting depth is bounded', () => {
    expect(inProcess(`compute ${'('.repeat(200)}1${')'.repeat(200)}`)).toBe('e.spf:2:108: nested too deeply (more than 100 levels)');
    expect(inProcess(`compute ${'-'.repeat(500)}1`)).toBe('e.spf:2:108: nested too deeply (more than 100 levels)');
    expect(inProcess('loop 1 {\n'.repeat(150) + '}\n'.repeat(150))).toBe('e.spf:101:8: nested too deeply (more than 100 levels)');
  });
});

describe('top-level errors', () => {
  test.each([
    ['param a = 1\n', "e.spf:2:1: workload has no 'process' block"],
    ['', "e.spf:1:1: workload has no 'process' block"],
    ['# only a comment', "e.spf:1:17: workload has no 'process' block"],
    ['procces {\n}\n', "e.spf:1:1: unknown declaration 'procces' (expected 'param', 'metric' or 'process'); did you mean 'process'?"],
    ['parm a = 1\n', "e.spf:1:1: unknown declaration 'parm' (expected 'param', 'metric' or 'process'); did you mean 'param'?"],
    ['touch x read\n', "e.spf:1:1: 'touch' statements are only allowed inside a 'process' block"],
    ['x = mmap 4K\n', "e.spf:1:1: 'mmap' statements are only allowed inside a 'process' block"],
    ['threads = 4\n', "e.spf:1:1: expected 'param', 'metric' or 'process', found 'threads'; did you mean 'param threads = ...'?"],
    ['size = 4K\n', "e.spf:1:1: expected 'param', 'metric' or 'process', found 'size'; did you mean 'param size = ...'?"],
    ['5\n', "e.spf:1:1: expected 'param', 'metric' or 'process', found '5'"],
    ['param\n', "e.spf:1:6: expected a parameter name after 'param', found end of line"],
    ['param $a = 1\n', "e.spf:1:7: write the parameter name without '$' in its declaration: 'param a = ...'"],
    ['param a 1\n', "e.spf:1:9: expected '=' after 'param a', found '1'"],
    ['param a =\n', "e.spf:1:10: expected an expression after '=', found end of line"],
    ['param a = 1 2\n', "e.spf:1:13: expected end of line after parameter declaration, found '2'"],
    ['metric ops = 1\n', "e.spf:1:8: expected the metric name as a string after 'metric' (e.g. metric \"ops/s\" = ops / elapsed), found 'ops'"],
    ['metric "a" unit = 1\n', "e.spf:1:17: expected a string after 'unit', found '='"],
    ['metric "a" unti "x" = 1\n', "e.spf:1:12: expected '=' after metric name, found 'unti'; did you mean 'unit'?"],
    ['process foo bar {\n}\n', "e.spf:1:13: expected '{' after process name, found 'bar'"],
    ['process cout 2 {\n}\n', "e.spf:1:14: expected '{' after process name, found '2'"],
    ['process count {\n}\n', "e.spf:1:15: expected an expression after 'count', found '{'"],
    ['process count 2 x {\n}\n', "e.spf:1:17: expected '{' after process count, found 'x'"],
    ['process loop {\n}\n', "e.spf:1:9: expected a process name after 'process', found keyword 'loop'"],
    ['process\n', "e.spf:1:8: expected '{' after 'process', found end of line"],
    ['process', "e.spf:1:8: expected '{' after 'process', found end of file"],
    ['process {\n  if 1 {\n  }\n', "e.spf:4:1: expected '}' to close the block opened at line 1, found end of file"],
    ['process {\n} x\n', "e.spf:2:3: expected end of line after 'process' block, found 'x'"],
  ])('%j', (src, message) => {
    expect(syntaxMessage(parse(src))).toBe(message);
  });

  test('render() shows the line and a caret under the column', () => {
    const e = syntaxErrorOf(parse('process {\n  threads 4 foo {\n  }\n}\n'));
    expect(e.file).toBe('e.spf');
    expect(e.line).toBe(2);
    expect(e.col).toBe(13);
    expect(e.detail).toBe("expected '{' after threads count, found 'foo'");
    expect(e.sourceLine).toBe('  threads 4 foo {');
    expect(e.render()).toBe("e.spf:2:13: expected '{' after threads count, found 'foo'\n  threads 4 foo {\n            ^");
  });

  test('CRLF line endings: positions and source lines are right', () => {
    const e = syntaxErrorOf(parse('process {\r\n  mmapp x\r\n}\r\n'));
    expect(e.message).toBe("e.spf:2:3: unknown statement 'mmapp'; did you mean 'mmap'?");
    expect(e.sourceLine).toBe('  mmapp x');
  });

  test('did-you-mean is not offered for short unrelated words', () => {
    expect(inProcess('xy')).toBe("e.spf:2:1: unknown statement 'xy'");
    expect(inProcess('fi 1 {\n}')).toBe("e.spf:2:1: unknown statement 'fi'; did you mean 'if'?");
    expect(inProcess('lop 1 {\n}')).toBe("e.spf:2:1: unknown statement 'lop'; did you mean 'loop'?");
  });
});
