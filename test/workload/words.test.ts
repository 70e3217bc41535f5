/**
 * Word parameters: `param mode = "threads"`, string literals in `==` / `!=`, `mode=processes`
 * on the command line, and the errors around them (docs/workload-language.md, "Words").
 */
import { describe, expect, test } from 'vitest';
import { checkWorkload } from '../../src/workload/check.js';
import { evalExpr, internWord } from '../../src/workload/expr.js';
import { paramDefaultText, parseWorkload } from '../../src/workload/parser.js';
import { paramKinds, paramWords, resolveParams } from '../../src/workload/params.js';
import { syntaxErrorOf, usageMessage } from './helpers.js';
import { runInline } from '../sim/helpers.js';

const builtins = { ncpus: 4, seed: 1 };

function load(src: string) {
  const w = parseWorkload(src, 'w.spf');
  checkWorkload(w);
  return w;
}

const checkError = (src: string): string => syntaxErrorOf(() => load(src)).message;


const MODE = [
  'param mode = "threads"    # threads or processes',
  'param threads = 2',
  'param procs = $mode == "processes"',
  'metric "ops" = ops',
  'process {',
  '  if $mode == "processes" {',
  '    fork $threads { count ops 1 }',
  '  } else if "threads" == $mode {',
  '    threads $threads { count ops 10 }',
  '  }',
  '}',
  '',
].join('\n');

describe('interning', () => {
  test('a word is a fixed safe integer of its text; different words differ', () => {
    const words = ['threads', 'processes', '', 'a', 'b', 'ab', 'ba', 'anon', 'file', 'ünïcode', 'threads '];
    const ids = words.map(internWord);
    for (const id of ids) expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
    expect(new Set(ids).size).toBe(words.length);
    // A pure function of the text: the same value in every run (saved runs compare equal).
    expect(internWord('threads')).toBe(internWord('thread' + 's'));
    // Pinned: a saved run stores these numbers, so they must not change between versions.
    expect(internWord('threads')).toBe(207160540501600);
    expect(internWord('processes')).toBe(3090679968538514);
  });

  test('a string literal evaluates to its interned number; == and != compare words', () => {
    const w = load(MODE);
    const s = w.processes[0]!.body[0]!;
    if (s.k !== 'if') throw new Error('if expected');
    expect(s.cond).toMatchObject({ k: 'bin', op: '==', a: { k: 'param', name: 'mode' }, b: { k: 'str', s: 'processes' } });
    const scope = (mode: string) => ({
      param: () => internWord(mode),
      variable: () => NaN,
      pages: () => NaN,
    });
    expect(evalExpr(s.cond, scope('processes'))).toBe(1);
    expect(evalExpr(s.cond, scope('threads'))).toBe(0);
    expect(evalExpr({ k: 'str', s: 'x', pos: { line: 1, col: 1 } }, scope(''))).toBe(internWord('x'));
  });
});

describe('word parameters', () => {
  test('the kind comes from the default; listings show the quoted default', () => {
    const w = load(MODE);
    expect([...paramKinds(w)]).toEqual([['mode', 'word'], ['threads', 'number'], ['procs', 'number']]);
    expect(paramDefaultText(w, w.params[0]!)).toBe('"threads"');
    expect(w.params[0]!.doc).toBe('threads or processes');
  });

  test('the words a parameter is compared with, anywhere in the script', () => {
    const w = load(MODE);
    expect(paramWords(w).get('mode')).toEqual({ words: ['threads', 'processes'], compared: true });
    // Parameters compared with each other, or copying a default, share their words.
    const w2 = load([
      'param a = "x"',
      'param b = $a',
      'param c = "p"',
      'metric "m" = ($c == "q") + ($a != $c)',
      'process { if $b == "y" { count n } }',
    ].join('\n'));
    const words = paramWords(w2);
    expect([...words.get('a')!.words].sort()).toEqual(['p', 'q', 'x', 'y']);
    expect(words.get('b')).toEqual(words.get('a'));
    expect(words.get('c')).toEqual(words.get('a'));
  });

  test('defaults resolve to interned numbers; a later default may compare them', () => {
    const v = resolveParams(load(MODE), [], builtins);
    expect(v.get('mode')).toBe(internWord('threads'));
    expect(v.get('procs')).toBe(0);
    const p = resolveParams(load(MODE), ['mode=processes'], builtins);
    expect(p.get('mode')).toBe(internWord('processes'));
    expect(p.get('procs')).toBe(1);
    // Quotes around the word are optional.
    expect(resolveParams(load(MODE), ['mode="processes"'], builtins).get('mode')).toBe(internWord('processes'));
  });

  test('a word for a number parameter, a number for a word one: usage errors naming the parameter', () => {
    const w = load(MODE);
    expect(usageMessage(() => resolveParams(w, ['threads=four'], builtins))).toBe(
      "bad value 'four' for parameter 'threads' of workload 'w': 'threads' takes a number (e.g. 16, 0x10), not a word",
    );
    expect(usageMessage(() => resolveParams(w, ['mode=2'], builtins))).toBe(
      "bad value '2' for parameter 'mode' of workload 'w': 'mode' takes a word (one of: threads, processes), not a number",
    );
    expect(usageMessage(() => resolveParams(w, ['mode=processs'], builtins))).toBe(
      "bad value 'processs' for parameter 'mode' of workload 'w': expected one of: threads, processes; did you mean 'processes'?",
    );
    // Size and duration parameters name their kind of number.
    const d = load('param seconds = 1s\nparam size = 4K\nprocess { }');
    expect(usageMessage(() => resolveParams(d, ['seconds=long'], builtins))).toMatch(/'seconds' takes a number \(e\.g\. 2s, 500ms\), not a word$/);
    expect(usageMessage(() => resolveParams(d, ['size="big"'], builtins))).toMatch(/'size' takes a number \(e\.g\. 64M, 4K\), not a word$/);
  });

  test('a word parameter never compared with a word takes any word', () => {
    const w = load('param label = "a"\nprocess { }');
    expect(resolveParams(w, ['label=anything'], builtins).get('label')).toBe(internWord('anything'));
  });

  test('the runner takes the branch the word selects', () => {
    expect(runInline(MODE).counters.get('ops')).toBe(20);
    expect(runInline(MODE, { params: ['mode=processes'] }).counters.get('ops')).toBe(2);
  });
});

describe('check errors', () => {
  test('a word in arithmetic', () => {
    expect(checkError('param mode = "a"\nprocess {\n  loop $mode + 1 { }\n}')).toBe(
      "w.spf:3:8: a word cannot be used in arithmetic: '+' needs a number, and $mode is a word (words can only be compared with '==' or '!=')",
    );
    expect(checkError('process {\n  compute 1 * "x"\n}')).toMatch(/^w\.spf:2:15: a word cannot be used in arithmetic: '\*' needs a number, and "x" is a word/);
    expect(checkError('param m = "a"\nprocess {\n  if !$m { }\n}')).toMatch(/^w\.spf:3:7: a word cannot be used in arithmetic: '!' needs a number/);
    expect(checkError('param m = "a"\nprocess {\n  compute -$m\n}')).toMatch(/unary '-' needs a number/);
    expect(checkError('param m = "a"\nprocess {\n  compute max($m, 1)\n}')).toMatch(/max\(\) needs a number/);
    expect(checkError('param m = "a"\nprocess {\n  if $m < "b" { }\n}')).toMatch(/^w\.spf:3:6: a word cannot be used in arithmetic: '<' needs a number/);
    expect(checkError('param m = "a"\nprocess {\n  if $m == "a" && $m { }\n}')).toMatch(/^w\.spf:3:19: a word cannot be used in arithmetic: '&&' needs a number/);
    expect(checkError('param m = "a"\nparam n = $m * 2\nprocess { }')).toMatch(/^w\.spf:2:11: a word cannot be used in arithmetic/);
  });

  test('a word compared with a number', () => {
    expect(checkError('param m = "a"\nprocess {\n  if $m == 1 { }\n}')).toBe(
      "w.spf:3:9: '==' compares a word ($m) with a number; a word can only be compared with a word",
    );
    expect(checkError('process {\n  if 0 != "a" { }\n}')).toMatch(/'!=' compares a word \("a"\) with a number/);
  });

  test('a word where a number is needed', () => {
    expect(checkError('param mode = "threads"\nprocess {\n  if $mode { }\n}')).toBe(
      `w.spf:3:6: '$mode' is a word, not a number; compare it with a word, e.g. $mode == "threads"`,
    );
    expect(checkError('process {\n  threads "4" { }\n}')).toBe('w.spf:2:11: "4" is a word, not a number');
    expect(checkError('param m = "a"\nmetric "x" = $m\nprocess { }')).toMatch(/^w\.spf:2:14: '\$m' is a word, not a number/);
    expect(checkError('param m = "a"\nprocess {\n  b = mmap $m\n}')).toMatch(/is a word, not a number/);
    expect(checkError('process {\n  count n "x"\n}')).toMatch(/"x" is a word, not a number/);
  });
});
