import { describe, expect, test } from 'vitest';
import type { Expr, Stmt } from '../../src/workload/ir.js';
import { leadingDescription, parseWorkload, workloadNameOf } from '../../src/workload/parser.js';

const P = (line: number, col: number) => ({ line, col });
const RW = { read: true, write: true, exec: false };

/** Parse `body` as the statements of a single process; the body starts on line 2, column 3. */
function stmts(body: string): readonly Stmt[] {
  const src = `process {\n${body
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n}\n`;
  return parseWorkload(src, 'test.spf').processes[0]!.body;
}
const stmt = (body: string): Stmt => {
  const s = stmts(body);
  expect(s).toHaveLength(1);
  return s[0]!;
};
/** Parse `e` as the expression of `compute` (the expression starts on line 2, column 11). */
const expr = (e: string): Expr => {
  const s = stmt(`compute ${e}`);
  if (s.k !== 'compute') throw new Error('not compute');
  return s.ns;
};

describe('top level', () => {
  test('a whole workload', () => {
    const src = [
      '# My workload.',
      '#',
      '# Second paragraph.',
      '',
      '# not part of the description',
      'param threads = $ncpus   # worker threads',
      'param size = 64M',
      'metric "ops/s" unit "ops/s" = ops / elapsed',
      'metric "faults" = ops',
      'process {',
      '  count ops',
      '}',
      'process helper count 2 {',
      '}',
      'process "quoted name" {',
      '}',
      '',
    ].join('\n');
    const w = parseWorkload(src, 'dir/sub/mine.spf');
    expect(w.name).toBe('mine');
    expect(w.file).toBe('dir/sub/mine.spf');
    expect(w.source).toBe(src);
    expect(w.description).toBe('My workload.\n\nSecond paragraph.');
    expect(w.params).toEqual([
      { name: 'threads', value: { k: 'param', name: 'ncpus', pos: P(6, 17) }, doc: 'worker threads', pos: P(6, 7) },
      { name: 'size', value: { k: 'num', v: 64 * 1024 * 1024, unit: 'bytes', pos: P(7, 14) }, pos: P(7, 7) },
    ]);
    expect(w.metrics).toEqual([
      {
        name: 'ops/s',
        unit: 'ops/s',
        value: { k: 'bin', op: '/', a: { k: 'var', name: 'ops', pos: P(8, 31) }, b: { k: 'var', name: 'elapsed', pos: P(8, 37) }, pos: P(8, 35) },
        pos: P(8, 1),
      },
      { name: 'faults', unit: '', value: { k: 'var', name: 'ops', pos: P(9, 19) }, pos: P(9, 1) },
    ]);
    expect(w.processes).toEqual([
      { name: 'mine', count: { k: 'num', v: 1, pos: P(10, 1) }, body: [{ k: 'count', counter: 'ops', pos: P(11, 3) }], pos: P(10, 1) },
      { name: 'helper', count: { k: 'num', v: 2, pos: P(13, 22) }, body: [], pos: P(13, 1) },
      { name: 'quoted name', count: { k: 'num', v: 1, pos: P(15, 1) }, body: [], pos: P(15, 1) },
    ]);
  });

  test('keywords are fine parameter names; `;` separates statements', () => {
    const w = parseWorkload('param threads = 1; param count = 2\nprocess { compute $count; compute 1 }', 'x.spf');
    expect(w.params.map((p) => p.name)).toEqual(['threads', 'count']);
    expect(w.processes[0]!.body).toHaveLength(2);
  });

  test('name and description helpers', () => {
    expect(workloadNameOf('a/b/c.spf')).toBe('c');
    expect(workloadNameOf('C:\\x\\y.spf')).toBe('y');
    expect(workloadNameOf('noext')).toBe('noext');
    expect(leadingDescription('#!/usr/bin/env spfperf\n\n#  indented\n#x\n#\n#\nparam a = 1\n# later')).toBe(' indented\nx');
    expect(leadingDescription('param a = 1 # no description\n')).toBe('');
    expect(leadingDescription('# a\r\n# b\r\n')).toBe('a\nb');
  });
});

describe('statements', () => {
  test('threads', () => {
    expect(stmt('threads $n {\n  compute 1\n}')).toEqual({
      k: 'threads',
      count: { k: 'param', name: 'n', pos: P(2, 11) },
      pin: false,
      body: [{ k: 'compute', ns: { k: 'num', v: 1, pos: P(3, 13) }, pos: P(3, 5) }],
      pos: P(2, 3),
    });
    expect(stmt('threads 4 pin { }')).toMatchObject({ k: 'threads', pin: true, body: [] });
  });

  test('loop forms', () => {
    expect(stmt('loop 10 { }')).toEqual({ k: 'loop', times: { k: 'num', v: 10, pos: P(2, 8) }, body: [], pos: P(2, 3) });
    expect(stmt('loop for 2s { }')).toEqual({
      k: 'loop',
      duration: { k: 'num', v: 2e9, unit: 'ns', pos: P(2, 12) },
      body: [],
      pos: P(2, 3),
    });
    expect(stmt('loop $i for $d {\n}')).toEqual({
      k: 'loop',
      times: { k: 'param', name: 'i', pos: P(2, 8) },
      duration: { k: 'param', name: 'd', pos: P(2, 15) },
      body: [],
      pos: P(2, 3),
    });
  });

  test('a { on the next line is accepted', () => {
    expect(stmt('loop 3\n{\n}')).toMatchObject({ k: 'loop', body: [] });
  });

  test('if, else, else if', () => {
    expect(stmt('if 1 { compute 1 }')).toEqual({
      k: 'if',
      cond: { k: 'num', v: 1, pos: P(2, 6) },
      then: [{ k: 'compute', ns: { k: 'num', v: 1, pos: P(2, 18) }, pos: P(2, 10) }],
      pos: P(2, 3),
    });
    expect(stmt('if 1 {\n} else {\n  compute 2\n}')).toMatchObject({ k: 'if', then: [], else: [{ k: 'compute' }] });
    expect(stmt('if 1 {\n}\nelse {\n}')).toMatchObject({ k: 'if', else: [] });
    expect(stmt('if $a == 1 {\n} else if $a == 2 {\n  compute 2\n} else {\n  compute 3\n}')).toEqual({
      k: 'if',
      cond: expect.objectContaining({ k: 'bin', op: '==' }),
      then: [],
      else: [
        {
          k: 'if',
          cond: expect.objectContaining({ k: 'bin', op: '==', pos: P(3, 16) }),
          then: [expect.objectContaining({ k: 'compute' })],
          else: [expect.objectContaining({ k: 'compute', pos: P(6, 5) })],
          pos: P(3, 10),
        },
      ],
      pos: P(2, 3),
    });
    // An `if` without else followed by another statement.
    expect(stmts('if 1 {\n}\ncompute 1')).toHaveLength(2);
  });

  test('let', () => {
    expect(stmt('let x = 2 * 3')).toEqual({
      k: 'let',
      name: 'x',
      value: { k: 'bin', op: '*', a: { k: 'num', v: 2, pos: P(2, 11) }, b: { k: 'num', v: 3, pos: P(2, 15) }, pos: P(2, 13) },
      pos: P(2, 3),
    });
  });

  test('mmap with defaults and every option', () => {
    expect(stmt('buf = mmap 128M')).toEqual({
      k: 'mmap',
      target: 'buf',
      size: { k: 'num', v: 128 * 1024 * 1024, unit: 'bytes', pos: P(2, 14) },
      prot: RW,
      shared: false,
      pos: P(2, 3),
    });
    expect(stmt('b = mmap 4K r shared file "/tmp/x y"')).toMatchObject({
      prot: { read: true, write: false, exec: false },
      shared: true,
      file: '/tmp/x y',
    });
    expect(stmt('b = mmap 4K anon private rwx')).toMatchObject({ prot: { read: true, write: true, exec: true }, shared: false });
    expect(stmt('b = mmap 4K none')).toMatchObject({ prot: { read: false, write: false, exec: false } });
    expect(stmt('b = mmap 4K xw')).toMatchObject({ prot: { read: false, write: true, exec: true } });
    expect(stmt('b = mmap $n * 4K w')).toMatchObject({ size: { k: 'bin', op: '*' }, prot: { read: false, write: true, exec: false } });
  });

  test('munmap and mprotect', () => {
    expect(stmt('munmap b')).toEqual({ k: 'munmap', region: 'b', pos: P(2, 3) });
    expect(stmt('munmap b length 8K offset 4K')).toEqual({
      k: 'munmap',
      region: 'b',
      offset: { k: 'num', v: 4096, unit: 'bytes', pos: P(2, 29) },
      length: { k: 'num', v: 8192, unit: 'bytes', pos: P(2, 19) },
      pos: P(2, 3),
    });
    expect(stmt('mprotect b r')).toEqual({ k: 'mprotect', region: 'b', prot: { read: true, write: false, exec: false }, pos: P(2, 3) });
    expect(stmt('mprotect b none offset 4K length 4K')).toMatchObject({
      prot: { read: false, write: false, exec: false },
      offset: { v: 4096 },
      length: { v: 4096 },
    });
  });

  test('touch', () => {
    expect(stmt('touch b read')).toEqual({ k: 'touch', region: 'b', access: 'read', pattern: 'seq', pos: P(2, 3) });
    expect(stmt('touch b write seq count ops')).toEqual({
      k: 'touch',
      region: 'b',
      access: 'write',
      pattern: 'seq',
      counter: 'ops',
      pos: P(2, 3),
    });
    expect(stmt('touch b write stride 64 offset 4K length 1M')).toEqual({
      k: 'touch',
      region: 'b',
      access: 'write',
      pattern: 'stride',
      arg: { k: 'num', v: 64, pos: P(2, 24) },
      offset: { k: 'num', v: 4096, unit: 'bytes', pos: P(2, 34) },
      length: { k: 'num', v: 1024 * 1024, unit: 'bytes', pos: P(2, 44) },
      pos: P(2, 3),
    });
    // Clauses in any order.
    expect(stmt('touch b read count c length 4K random 100 offset 0')).toMatchObject({
      pattern: 'random',
      arg: { v: 100 },
      counter: 'c',
      length: { v: 4096 },
      offset: { v: 0 },
    });
  });

  test('write and expect', () => {
    expect(stmt('write b 7')).toEqual({ k: 'write', region: 'b', value: { k: 'num', v: 7, pos: P(2, 11) }, pos: P(2, 3) });
    expect(stmt('expect b $tid + 1 offset 8')).toEqual({
      k: 'expect',
      region: 'b',
      value: { k: 'bin', op: '+', a: { k: 'param', name: 'tid', pos: P(2, 12) }, b: { k: 'num', v: 1, pos: P(2, 19) }, pos: P(2, 17) },
      offset: { k: 'num', v: 8, pos: P(2, 28) },
      pos: P(2, 3),
    });
    expect(() => stmt('write b')).toThrow(/test\.spf:2:10: expected a value after 'write b'/);
    expect(() => stmt('expect b 1 length 8')).toThrow(/test\.spf:2:14: unknown expect option 'length' \(expected 'offset'\)/);
    // A keyword now: it cannot name a region.
    expect(() => stmt('write = mmap 4K')).toThrow(/test\.spf:2:9: expected a region name/);
  });

  test('compute, barrier, count', () => {
    expect(stmt('compute 5us')).toEqual({ k: 'compute', ns: { k: 'num', v: 5000, unit: 'ns', pos: P(2, 11) }, pos: P(2, 3) });
    expect(stmt('barrier')).toEqual({ k: 'barrier', name: 'default', pos: P(2, 3) });
    expect(stmt('barrier phase2')).toEqual({ k: 'barrier', name: 'phase2', pos: P(2, 3) });
    expect(stmt('count ops')).toEqual({ k: 'count', counter: 'ops', pos: P(2, 3) });
    expect(stmt('count ops 2 * $n')).toEqual({
      k: 'count',
      counter: 'ops',
      by: { k: 'bin', op: '*', a: { k: 'num', v: 2, pos: P(2, 13) }, b: { k: 'param', name: 'n', pos: P(2, 17) }, pos: P(2, 15) },
      pos: P(2, 3),
    });
  });

  test('empty lines, comments and ; inside blocks', () => {
    expect(stmts('\n# comment\ncompute 1 # trailing\n\ncompute 2; compute 3;\n')).toHaveLength(3);
  });
});

describe('expressions', () => {
  const n = (v: number, col: number): Expr => ({ k: 'num', v, pos: P(2, col) });

  test('precedence: * over +, left associativity', () => {
    // compute 1 + 2 * 3 - 4
    //         ^11 ^15 ^19 ^23
    expect(expr('1 + 2 * 3 - 4')).toEqual({
      k: 'bin',
      op: '-',
      a: { k: 'bin', op: '+', a: n(1, 11), b: { k: 'bin', op: '*', a: n(2, 15), b: n(3, 19), pos: P(2, 17) }, pos: P(2, 13) },
      b: n(4, 23),
      pos: P(2, 21),
    });
  });

  test('precedence: || < && < comparison < additive', () => {
    const e = expr('1 || 2 && 3 < 4 + 5');
    expect(e).toMatchObject({
      op: '||',
      a: { k: 'num', v: 1 },
      b: { op: '&&', a: { v: 2 }, b: { op: '<', a: { v: 3 }, b: { op: '+', a: { v: 4 }, b: { v: 5 } } } },
    });
  });

  test('unary and parentheses', () => {
    expect(expr('-(1 + 2) * !0')).toEqual({
      k: 'bin',
      op: '*',
      a: { k: 'neg', a: { k: 'bin', op: '+', a: n(1, 13), b: n(2, 17), pos: P(2, 15) }, pos: P(2, 11) },
      b: { k: 'not', a: n(0, 23), pos: P(2, 22) },
      pos: P(2, 20),
    });
    expect(expr('--1')).toMatchObject({ k: 'neg', a: { k: 'neg', a: { v: 1 } } });
    expect(expr('10 % 3 / 2')).toMatchObject({ op: '/', a: { op: '%' } });
  });

  test('every comparison operator', () => {
    for (const op of ['<', '<=', '>', '>=', '==', '!=']) {
      expect(expr(`1 ${op} 2`)).toMatchObject({ k: 'bin', op });
    }
  });

  test('calls, params, variables', () => {
    expect(expr('min($a, x, 3)')).toEqual({
      k: 'call',
      fn: 'min',
      args: [{ k: 'param', name: 'a', pos: P(2, 15) }, { k: 'var', name: 'x', pos: P(2, 19) }, n(3, 22)],
      pos: P(2, 11),
    });
    expect(expr('pages(buf)')).toEqual({ k: 'call', fn: 'pages', args: [{ k: 'var', name: 'buf', pos: P(2, 17) }], pos: P(2, 11) });
    expect(expr('floor(ceil(1.5))')).toMatchObject({ fn: 'floor', args: [{ fn: 'ceil', args: [{ v: 1.5 }] }] });
    expect(expr('max(1, 2)')).toMatchObject({ fn: 'max' });
  });
});

test('the example in docs/workload-language.md parses and checks', async () => {
  const { readFileSync } = await import('node:fs');
  const { checkWorkload } = await import('../../src/workload/check.js');
  const doc = readFileSync(new URL('../../docs/workload-language.md', import.meta.url), 'utf8');
  const example = /```\n(# page_fault1[\s\S]*?)```/.exec(doc)?.[1];
  expect(example).toBeDefined();
  const w = parseWorkload(example!, 'example.spf');
  checkWorkload(w);
  expect(w.description).toBe('page_fault1 in a nutshell: the first comment block is the description.');
  expect(w.params.map((p) => p.doc)).toEqual(['worker threads', 'simulated run time', 'bytes mapped per round']);
});
