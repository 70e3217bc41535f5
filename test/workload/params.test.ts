import { describe, expect, test } from 'vitest';
import { checkWorkload } from '../../src/workload/check.js';
import { paramDimensions, resolveParams } from '../../src/workload/params.js';
import { parseWorkload } from '../../src/workload/parser.js';
import { syntaxErrorOf, usageMessage } from './helpers.js';

const SRC = [
  'param threads = $ncpus       # worker threads',
  'param per = $threads * 2',
  'param size = 128M',
  'param seconds = 0.1s',
  'param half = $seconds / 2',
  'param iterations = 0',
  'process {',
  '}',
  '',
].join('\n');
const w = parseWorkload(SRC, 'workloads/demo.spf');
checkWorkload(w);
const builtins = { ncpus: 8, seed: 42 };


describe('resolveParams', () => {
  test('defaults in declaration order, referencing built-ins and earlier params', () => {
    const v = resolveParams(w, [], builtins);
    expect([...v]).toEqual([
      ['ncpus', 8],
      ['seed', 42],
      ['threads', 8],
      ['per', 16],
      ['size', 128 * 1024 * 1024],
      ['seconds', 100_000_000],
      ['half', 50_000_000],
      ['iterations', 0],
    ]);
  });

  test('overrides with units, and later defaults see them', () => {
    const v = resolveParams(w, ['threads=16', 'size=64M', 'seconds=2s', 'iterations=0x10'], builtins);
    expect(v.get('threads')).toBe(16);
    expect(v.get('per')).toBe(32);
    expect(v.get('size')).toBe(64 * 1024 * 1024);
    expect(v.get('seconds')).toBe(2e9);
    expect(v.get('half')).toBe(1e9);
    expect(v.get('iterations')).toBe(16);
  });

  test('a plain number for a duration parameter is seconds; for a size, bytes', () => {
    expect(resolveParams(w, ['seconds=2'], builtins).get('seconds')).toBe(2e9);
    expect(resolveParams(w, ['seconds=0.5'], builtins).get('seconds')).toBe(5e8);
    expect(resolveParams(w, ['half=1'], builtins).get('half')).toBe(1e9); // dimension inherited from $seconds
    expect(resolveParams(w, ['seconds=250ms'], builtins).get('seconds')).toBe(2.5e8);
    expect(resolveParams(w, ['size=4096'], builtins).get('size')).toBe(4096);
    expect(resolveParams(w, ['threads=1K'], builtins).get('threads')).toBe(1024);
  });

  test('spaces around = are ignored; a name given twice is refused, not silently the last', () => {
    expect(resolveParams(w, [' threads = 3 '], builtins).get('threads')).toBe(3);
    expect(usageMessage(() => resolveParams(w, ['threads=2', 'threads=3'], builtins))).toBe(
      "parameter 'threads' of workload 'demo' is given twice ('threads=3'): give each parameter once",
    );
  });

  test('a negative value is refused unless the default is negative', () => {
    expect(usageMessage(() => resolveParams(w, ['seconds=-1'], builtins))).toBe(
      "bad value '-1' for parameter 'seconds' of workload 'demo': 'seconds' cannot be negative",
    );
    expect(usageMessage(() => resolveParams(w, ['threads=-1'], builtins))).toMatch(/'threads' cannot be negative$/);
    const neg = parseWorkload('param off = -4\nprocess {\n}\n', 'workloads/neg.spf');
    checkWorkload(neg);
    expect(resolveParams(neg, ['off=-8'], builtins).get('off')).toBe(-8);
  });

  test('a task or loop count takes a whole number; a task count at least 1', () => {
    const src = ['param threads = 4', 'param procs = 1', 'param rounds = 3', 'param rate = 10', 'process count $procs {', '  threads $threads {', '    loop $rounds {', '      compute 1us', '    }', '  }', '}', ''].join('\n');
    const c = parseWorkload(src, 'workloads/c.spf');
    checkWorkload(c);
    const msg = (o: string): string => usageMessage(() => resolveParams(c, [o], builtins));
    expect(msg('threads=0')).toBe("bad value '0' for parameter 'threads' of workload 'c': 'threads' must be at least 1 (the count of 'threads' at workloads/c.spf:6:11)");
    expect(msg('threads=-5')).toMatch(/'threads' must be at least 1/);
    expect(msg('threads=2.5')).toBe("bad value '2.5' for parameter 'threads' of workload 'c': 'threads' takes a whole number (the count of 'threads' at workloads/c.spf:6:11)");
    expect(msg('procs=0')).toMatch(/the count of 'process' at workloads\/c.spf:5:15/);
    expect(msg('rounds=1.5')).toMatch(/'rounds' takes a whole number \(the count of 'loop'/);
    expect(msg('rounds=-1')).toMatch(/'rounds' cannot be negative|must be at least/);
    // 0 rounds is a loop count the language defines; a rate may be a fraction.
    expect(resolveParams(c, ['rounds=0', 'rate=2.5'], builtins).get('rate')).toBe(2.5);
  });

  test('unknown parameter', () => {
    expect(usageMessage(() => resolveParams(w, ['foo=1'], builtins))).toBe(
      "unknown parameter 'foo' for workload 'demo' (known: threads, per, size, seconds, half, iterations)",
    );
    expect(usageMessage(() => resolveParams(w, ['thread=1'], builtins))).toBe(
      "unknown parameter 'thread' for workload 'demo' (known: threads, per, size, seconds, half, iterations); did you mean 'threads'?",
    );
    expect(usageMessage(() => resolveParams(w, ['ncpus=4'], builtins))).toBe(
      "'ncpus' is a built-in of workload 'demo' and cannot be set as a parameter (known: threads, per, size, seconds, half, iterations)",
    );
    const none = parseWorkload('process {\n}\n', 'x/empty.spf');
    expect(usageMessage(() => resolveParams(none, ['a=1'], builtins))).toBe("unknown parameter 'a' for workload 'empty' (known: none)");
  });

  test('malformed name=value', () => {
    for (const o of ['threads', '=4', 'threads=', '9x=1', 'a b=1']) {
      expect(usageMessage(() => resolveParams(w, [o], builtins))).toBe(
        `malformed parameter '${o}': expected name=value (e.g. threads=16, size=64M, seconds=2s)`,
      );
    }
  });

  test('bad values', () => {
    expect(usageMessage(() => resolveParams(w, ['threads=many'], builtins))).toBe(
      "bad value 'many' for parameter 'threads' of workload 'demo': 'threads' takes a number (e.g. 16, 0x10), not a word",
    );
    expect(usageMessage(() => resolveParams(w, ['threads=1x'], builtins))).toBe(
      "bad value '1x' for parameter 'threads' of workload 'demo': unknown unit 'x' in number '1x' (sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s)",
    );
    expect(usageMessage(() => resolveParams(w, ['size=64MB'], builtins))).toBe(
      "bad value '64MB' for parameter 'size' of workload 'demo': unknown unit 'MB' in number '64MB' (sizes K, M, G, T, KiB, MiB, GiB, TiB; durations ns, us, ms, s); did you mean '64M'?",
    );
    expect(usageMessage(() => resolveParams(w, ['size=2s'], builtins))).toBe(
      "bad value '2s' for parameter 'size' of workload 'demo': 'size' is a size (e.g. 64M, 4K), not a duration",
    );
    expect(usageMessage(() => resolveParams(w, ['seconds=4K'], builtins))).toBe(
      "bad value '4K' for parameter 'seconds' of workload 'demo': 'seconds' is a duration (e.g. 2s, 500ms), not a size",
    );
    expect(usageMessage(() => resolveParams(w, ['seconds=1.5ns'], builtins))).toBe(
      "bad value '1.5ns' for parameter 'seconds' of workload 'demo': '1.5ns' is not a whole number of nanoseconds",
    );
  });

  test('a default that cannot be evaluated is a WorkloadSyntaxError at its position', () => {
    const bad = parseWorkload('param a = 0\nparam b = 1 / $a\nprocess {\n}\n', 'bad.spf');
    checkWorkload(bad);
    expect(syntaxErrorOf(() => resolveParams(bad, [], builtins)).message).toBe(
      "bad.spf:2:13: division by zero in the default of parameter 'b'",
    );
    // ... unless the override removes the problem.
    expect(resolveParams(bad, ['a=2'], builtins).get('b')).toBe(0.5);
    // A built-in the caller did not provide.
    const seeded = parseWorkload('param s = $seed\nprocess {\n}\n', 's.spf');
    expect(syntaxErrorOf(() => resolveParams(seeded, [], { ncpus: 1 })).message).toBe(
      "s.spf:1:11: '$seed' has no value in the default of parameter 's'",
    );
  });

  test('paramDimensions', () => {
    expect([...paramDimensions(w)]).toEqual([
      ['threads', undefined],
      ['per', undefined],
      ['size', 'bytes'],
      ['seconds', 'ns'],
      ['half', 'ns'],
      ['iterations', undefined],
    ]);
  });
});
