import { describe, expect, test } from 'vitest';
import { checkWorkload } from '../../src/workload/check.js';
import { parseWorkload } from '../../src/workload/parser.js';
import { syntaxErrorOf } from './helpers.js';

const check = (src: string) => () => checkWorkload(parseWorkload(src, 'c.spf'));
const checkError = (src: string): string => syntaxErrorOf(check(src)).message;
/** `body` becomes the statements of `process p`, starting on line 2. */
const inProcess = (body: string, head = ''): string => `${head}process p {\n${body}\n}\n`;

describe('accepted workloads', () => {
  test('regions, variables, params and built-ins in scope', () => {
    expect(
      check(
        [
          'param n = $ncpus * 2',
          'param size = 4K',
          'param m = $n + $seed',
          'metric "x/s" = x / elapsed',
          'metric "pages" = y * $size / $ncpus',
          'process p count $n {',
          '  buf = mmap $size',
          '  let i = pages(buf)',
          '  threads $n pin {',
          '    let j = $tid + $nthreads + $pid + $ncpus + $seed + $m + i',
          '    touch buf write count x',
          '    barrier',
          '    loop 2 {',
          '      if j > 0 {',
          '        barrier second',
          '      }',
          '    }',
          '    count y j',
          '  }',
          '  mprotect buf r offset 0 length pages(buf) * 4K',
          '  munmap buf',
          '  let i = i + 1',
          '}',
        ].join('\n'),
      ),
    ).not.toThrow();
  });

  test('a name assigned anywhere earlier in program order counts (including in a loop or if)', () => {
    expect(check(inProcess('loop 3 {\n  b = mmap 4K\n}\ntouch b read\nif 1 {\n  let v = 1\n}\ncompute v'))).not.toThrow();
    // Each process block has its own names.
    expect(checkError('process a {\n  b = mmap 4K\n}\nprocess b {\n  touch b read\n}\n')).toBe(
      "c.spf:5:3: touch of unknown region 'b': no 'b = mmap ...' comes before it in process 'b'",
    );
  });

  test('a counter bumped only inside a fork body is a counter for metrics', () => {
    expect(check('metric "ops/s" = ops / elapsed\nprocess {\n  fork 2 {\n    count ops\n    b = mmap 4K\n    touch b write count pages\n  }\n}\nmetric "p" = pages')).not.toThrow();
  });
});

describe('errors', () => {
  test.each([
    // Regions.
    ['touch buf read', "c.spf:2:1: touch of unknown region 'buf': no 'buf = mmap ...' comes before it in process 'p'"],
    ['munmap buf', "c.spf:2:1: munmap of unknown region 'buf': no 'buf = mmap ...' comes before it in process 'p'"],
    ['mprotect buf r', "c.spf:2:1: mprotect of unknown region 'buf': no 'buf = mmap ...' comes before it in process 'p'"],
    ['compute pages(buf)', "c.spf:2:15: pages() of unknown region 'buf': no 'buf = mmap ...' comes before it in process 'p'"],
    ['bufs = mmap 4K\ntouch buf read', "c.spf:3:1: touch of unknown region 'buf': no 'buf = mmap ...' comes before it in process 'p'; did you mean 'bufs'?"],
    ['touch b read\nb = mmap 4K', "c.spf:2:1: touch of unknown region 'b': no 'b = mmap ...' comes before it in process 'p'"],
    ['loop 2 {\n  touch b read\n  b = mmap 4K\n}', "c.spf:3:3: touch of unknown region 'b': no 'b = mmap ...' comes before it in process 'p'"],
    ['let v = 1\ntouch v read', "c.spf:3:1: 'v' is a variable, not a region (it is set by 'let' at line 2)"],
    ['b = mmap 4K\ncompute b', "c.spf:3:9: 'b' is a region, not a number; use pages(b) for its size in pages"],
    ['b = mmap 4K\nlet b = 1', "c.spf:3:1: 'b' is already a region (mapped at line 2); pick another variable name"],
    ['let b = 1\nb = mmap 4K', "c.spf:3:1: 'b' is already a variable (set by 'let' at line 2); pick another region name"],
    // Variables.
    ['compute x', "c.spf:2:9: variable 'x' is used before any 'let x = ...' in process 'p'"],
    ['let i = i + 1', "c.spf:2:9: variable 'i' is used before any 'let i = ...' in process 'p'"],
    ['let count1 = 1\ncompute count2', "c.spf:3:9: variable 'count2' is used before any 'let count2 = ...' in process 'p'; did you mean 'count1'?"],
    ['compute x\nlet x = 1', "c.spf:2:9: variable 'x' is used before any 'let x = ...' in process 'p'"],
    // Barriers.
    ['barrier', "c.spf:2:1: 'barrier' outside a 'threads' block (a barrier waits for the threads of its group)"],
    ['loop 2 {\n  barrier b\n}', "c.spf:3:3: 'barrier' outside a 'threads' block (a barrier waits for the threads of its group)"],
    // Parameters in the body.
    ['compute $nope', "c.spf:2:9: unknown parameter '$nope'"],
    ['compute $ncpu', "c.spf:2:9: unknown parameter '$ncpu'; did you mean '$ncpus'?"],
  ])('%j', (body, message) => {
    expect(checkError(inProcess(body))).toBe(message);
  });

  test('parameters', () => {
    expect(checkError('param a = 1\nparam b = 2\nparam a = 3\nprocess {\n}\n')).toBe(
      "c.spf:3:7: duplicate parameter 'a' (first declared at line 1)",
    );
    expect(checkError('param ncpus = 4\nprocess {\n}\n')).toBe(
      "c.spf:1:7: 'ncpus' is a built-in parameter ($ncpus) and cannot be declared",
    );
    expect(checkError('param a = $b\nparam b = 1\nprocess {\n}\n')).toBe(
      "c.spf:1:11: parameter '$b' is declared after 'a'; a default may only use earlier parameters",
    );
    expect(checkError('param a = $a + 1\nprocess {\n}\n')).toBe("c.spf:1:11: the default of parameter 'a' refers to itself");
    expect(checkError('param a = $tid\nprocess {\n}\n')).toBe(
      "c.spf:1:11: '$tid' has no value in a parameter default (only $ncpus, $seed and earlier parameters do)",
    );
    expect(checkError('param threads = 1\nparam a = $thread\nprocess {\n}\n')).toBe(
      "c.spf:2:11: unknown parameter '$thread'; did you mean '$threads'?",
    );
    expect(checkError('param a = x\nprocess {\n}\n')).toBe("c.spf:1:11: a parameter default cannot use the variable 'x' (did you mean '$x'?)");
    expect(checkError('param a = pages(x)\nprocess {\n}\n')).toBe('c.spf:1:11: pages() cannot be used in a parameter default');
    expect(checkError(inProcess('compute $thraeds', 'param threads = 1\n'))).toBe(
      "c.spf:3:9: unknown parameter '$thraeds'; did you mean '$threads'?",
    );
  });

  test('metrics', () => {
    const body = 'process {\n  count records\n}\n';
    expect(checkError(`metric "r/s" = recrods / elapsed\n${body}`)).toBe(
      `c.spf:1:16: 'recrods' in metric "r/s" is not a counter or 'elapsed' (counters: records); did you mean 'records'?`,
    );
    expect(checkError(`metric "r/s" = records / $sconds\nparam seconds = 1\n${body}`)).toBe(
      "c.spf:1:26: unknown parameter '$sconds'; did you mean '$seconds'?",
    );
    expect(checkError(`metric "r/s" = records / $tid\n${body}`)).toBe(
      "c.spf:1:26: '$tid' has no value in a metric (only parameters, $ncpus and $seed do)",
    );
    expect(checkError(`metric "a" = records\nmetric "a" = records\n${body}`)).toBe('c.spf:2:1: duplicate metric "a" (first declared at line 1)');
    expect(checkError(`metric "a" = pages(x)\n${body}`)).toBe('c.spf:1:14: pages() cannot be used in a metric');
    expect(checkError('metric "a" = x\nprocess {\n}\n')).toBe(`c.spf:1:14: 'x' in metric "a" is not a counter or 'elapsed' (counters: none)`);
    // Counters from `touch ... count` and from nested blocks count.
    expect(check(`metric "a" = t + c / elapsed\nprocess {\n  b = mmap 4K\n  threads 2 {\n    if 1 {\n    } else {\n      touch b read count t\n      count c\n    }\n  }\n}\n`)).not.toThrow();
  });

  test('process count', () => {
    expect(checkError('process count $n {\n}\n')).toBe("c.spf:1:15: unknown parameter '$n'");
    expect(checkError('process count n {\n}\n')).toBe("c.spf:1:15: unknown name 'n' in process count (variables only exist inside the process)");
  });

  test('errors carry the source line', () => {
    const e = syntaxErrorOf(check(inProcess('  touch nope read')));
    expect(e.render()).toBe("c.spf:2:3: touch of unknown region 'nope': no 'nope = mmap ...' comes before it in process 'p'\n  touch nope read\n  ^");
  });
});

describe('random(), uniform() and choose()', () => {
  test('are accepted in statements', () => {
    expect(check(inProcess('  let n = random(1, $ncpus)\n  compute uniform(1us, 2us)\n  count c choose(1, 2, n)'))).not.toThrow();
  });

  test('are refused where there is no task stream', () => {
    expect(checkError('param a = random(1, 2)\nprocess {\n}\n')).toBe("c.spf:1:11: random() cannot be used in a parameter default (it draws from a task's stream; use it in a statement)");
    expect(checkError('metric "m" = choose(1, 2)\nprocess {\n  count x\n}\n')).toBe("c.spf:1:14: choose() cannot be used in a metric (it draws from a task's stream; use it in a statement)");
    expect(checkError('process count uniform(1, 2) {\n}\n')).toBe("c.spf:1:15: uniform() cannot be used in a process count (it draws from a task's stream; use it in a statement)");
  });

  test('a range of number literals is checked before the run', () => {
    expect(checkError(inProcess('  compute random(5, 2)'))).toBe('c.spf:2:11: random(5, 2): the low bound is above the high bound');
    expect(checkError(inProcess('  compute random(-1.5, 2)'))).toBe('c.spf:2:11: random(-1.5, 2): the bounds must be whole numbers (uniform(lo, hi) draws a real number)');
    expect(checkError(inProcess('  compute uniform(2K, 1K)'))).toBe('c.spf:2:11: uniform(2048, 1024): the low bound is above the high bound');
  });

  test('take numbers, not words, and the right number of arguments', () => {
    expect(checkError(inProcess('  compute choose("a", "b")'))).toMatch(/^c\.spf:2:18: a word cannot be used in arithmetic: choose\(\) needs a number/);
    expect(syntaxErrorOf(check(inProcess('  compute random(1)'))).message).toBe('c.spf:2:11: random() takes 2 arguments, got 1');
    expect(syntaxErrorOf(check(inProcess('  compute choose(1)'))).message).toBe('c.spf:2:11: choose() takes at least 2 arguments, got 1');
  });
});

describe('parallel and phase', () => {
  test('a barrier in a group of a parallel block is in a threads block', () => {
    expect(check(inProcess('  parallel {\n    threads 2 {\n      barrier\n    }\n    fork {\n      count x\n    }\n  }'))).not.toThrow();
  });

  test('phases do not nest, not even through a threads or fork block', () => {
    expect(checkError(inProcess('  phase "a" {\n    threads 2 {\n      phase "b" {\n      }\n    }\n  }'))).toBe('c.spf:4:7: phase "b" inside phase "a" (line 2): phases do not nest');
    expect(check(inProcess('  phase "a" {\n  }\n  phase "b" {\n  }\n  phase "a" {\n  }'))).not.toThrow();
  });

  test('a counter bumped only in a phase or a parallel group is a counter for metrics', () => {
    expect(check(inProcess('  phase "p" {\n    parallel {\n      threads 1 {\n        count ops\n      }\n    }\n  }', 'metric "m" = ops\n'))).not.toThrow();
  });
});
