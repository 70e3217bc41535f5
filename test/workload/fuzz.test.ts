/**
 * Fuzz-ish robustness: random mutations of the shipped workloads must either load or fail with
 * a WorkloadSyntaxError that points inside the source. Never any other exception, never a hang.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { WorkloadSyntaxError } from '../../src/errors.js';
import { checkWorkload } from '../../src/workload/check.js';
import { resolveParams } from '../../src/workload/params.js';
import { paramDefaultText, parseWorkload } from '../../src/workload/parser.js';
import { shippedWorkloadsDir } from '../../src/workload/load.js';
import { sourceLine } from '../../src/workload/source.js';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = 'abcxyz_019 \t\n{}()=,;$#"+-*/%<>!&|.@\\KMGsun\r';
const WORDS = [
  'threads', 'loop', 'for', 'if', 'else', 'let', 'mmap', 'munmap', 'mprotect', 'touch', 'compute', 'barrier',
  'count', 'param', 'metric', 'process', 'pin', 'read', 'write', 'seq', 'stride', 'random', 'offset', 'length',
  'rw', 'none', 'shared', 'file', 'anon', 'pages(c)', 'min(1,2)', '$ncpus', '$tid', '$nope', '0x', '1.5K', '0.1s',
  '{', '}', '(', ')', '"s"', '\n', ';', '=', '/ 0', 'elapsed', 'records', 'ops', 'c', 'copy',
];

function mutate(src: string, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const at = (): number => Math.floor(rnd() * (src.length + 1));
  const lines = (): string[] => src.split('\n');
  switch (Math.floor(rnd() * 8)) {
    case 0: {
      const i = at();
      return src.slice(0, i) + src.slice(i + 1 + Math.floor(rnd() * 8));
    }
    case 1: {
      const i = at();
      return src.slice(0, i) + pick([...CHARS]) + src.slice(i);
    }
    case 2: {
      const i = at();
      return src.slice(0, i) + pick([...CHARS]) + src.slice(i + 1);
    }
    case 3: {
      const i = at();
      return `${src.slice(0, i)} ${pick(WORDS)} ${src.slice(i)}`;
    }
    case 4: {
      const ls = lines();
      ls.splice(Math.floor(rnd() * ls.length), 1);
      return ls.join('\n');
    }
    case 5: {
      const ls = lines();
      const i = Math.floor(rnd() * ls.length);
      ls.splice(Math.floor(rnd() * ls.length), 0, ls[i]!);
      return ls.join('\n');
    }
    case 6: {
      const ls = lines();
      const i = Math.floor(rnd() * ls.length);
      const j = Math.floor(rnd() * ls.length);
      [ls[i], ls[j]] = [ls[j]!, ls[i]!];
      return ls.join('\n');
    }
    default: {
      // Replace a word with another word.
      const words = [...src.matchAll(/[A-Za-z_$][A-Za-z0-9_]*/g)];
      if (words.length === 0) return src;
      const m = pick(words);
      return src.slice(0, m.index) + pick(WORDS) + src.slice(m.index + m[0].length);
    }
  }
}

describe.each(['page_fault1', 'ebizzy'])('mutations of %s', (name) => {
  const original = readFileSync(join(shippedWorkloadsDir(), `${name}.spf`), 'utf8');

  test('only WorkloadSyntaxError, pointing inside the source', () => {
    const rnd = prng(name === 'ebizzy' ? 0xeb1 : 0xfa1);
    let failures = 0;
    let successes = 0;
    for (let n = 0; n < 1500; n++) {
      let src = original;
      const k = 1 + Math.floor(rnd() * 3);
      for (let m = 0; m < k; m++) src = mutate(src, rnd);
      try {
        const w = parseWorkload(src, `${name}.spf`);
        checkWorkload(w);
        for (const p of w.params) paramDefaultText(w, p);
        resolveParams(w, [], { ncpus: 4, seed: 1 });
        successes++;
      } catch (e) {
        if (!(e instanceof WorkloadSyntaxError)) {
          throw new Error(`mutation ${n} threw ${String(e)} for source:\n${src}`);
        }
        const lineCount = src.split('\n').length;
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.line).toBeLessThanOrEqual(lineCount);
        expect(e.col).toBeGreaterThanOrEqual(1);
        expect(e.col).toBeLessThanOrEqual(sourceLine(src, e.line).length + 1);
        expect(e.sourceLine).toBe(sourceLine(src, e.line));
        expect(e.message).toBe(`${name}.spf:${e.line}:${e.col}: ${e.detail}`);
        failures++;
      }
    }
    // Both outcomes occur: the mutations are neither all fatal nor all harmless.
    expect(failures).toBeGreaterThan(100);
    expect(successes).toBeGreaterThan(100);
  });
});
