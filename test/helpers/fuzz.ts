import fc from 'fast-check';
import { expect } from 'vitest';
import type { CliIo } from '../../src/io.js';
import type { CliResult } from './cli.js';

/**
 * Generators and the outcome property for the CLI fuzz tests (test/cli/fuzz.test.ts): inputs
 * mutated from the shipped ones (workload scripts, traces, saved runs) or built from the grammar
 * (docs/workload-language.md), and the rule every outcome must keep (README, "Exit status").
 *
 * fast-check (a devDependency for these tests only) generates the inputs and, when one breaks the
 * rule, shrinks it to a small counterexample and prints the seed that replays it.
 */

/** Cases in all, over every property: FUZZ_RUNS (npm run fuzz: 10000), else a few hundred. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** Seed: FUZZ_SEED; npm test uses a fixed one (the suite is deterministic), npm run fuzz a new one each time. */
export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS !== undefined ? Date.now() % 0x7fffffff : 1;

/**
 * fc.assert's options for one property: its share of FUZZ_RUNS, the seed, and a report of a
 * failure that fits a terminal (fast-check's own prints the whole counterexample: a whole trace).
 */
export function fuzzOptions<T>(share: number): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: runsOf(share),
    endOnFailure: true,
    reporter: (d) => {
      if (!d.failed) return;
      const shown = fc.stringify(d.counterexample);
      throw new Error(
        `fuzz: property failed after ${d.numRuns} case(s); replay with FUZZ_SEED=${d.seed} (fast-check path ${d.counterexamplePath})\n` +
          `${String(d.errorInstance)}\ncounterexample (${shown.length} chars): ${shown.length > 3000 ? `${shown.slice(0, 3000)}...` : shown}`,
      );
    },
  };
}

/** This property's share of FUZZ_RUNS (at least 1). */
export const runsOf = (share: number): number => Math.max(1, Math.round(FUZZ_RUNS * share));
/** vitest's time limit for a property of that share: generous (a case takes ~0.1 s), and never below the suite's 60 s. */
export const timeoutOf = (share: number): number => Math.max(60_000, runsOf(share) * 500);

/**
 * The cap on a run: a Ctrl-C once the command has handed the event loop back `turns` times (a
 * simulation yields once per slice of 20,000 events: src/sim/run.ts runWorkloadAsync), as a
 * user would stop a long run. A stopped run prints what it counted and exits 0 (docs/stat.md), so
 * a mutated script that loops for hours of simulated time costs a few slices of work. Counted in
 * event-loop turns, not wall time: the same input is stopped at the same point each time.
 */
export function interruptAfter(turns: number): CliIo['onInterrupt'] {
  return (handler) => {
    let live = true;
    let n = 0;
    const tick = (): void => {
      if (!live) return;
      if (++n >= turns) handler('SIGINT');
      else setImmediate(tick);
    };
    setImmediate(tick);
    return () => {
      live = false;
    };
  };
}

/** Cases checked so far, by exit status (npm run fuzz prints it at the end). */
export const TALLY = new Map<number, number>();

/**
 * The rule (README, "Exit status"): 0-3 only, never an internal error (70) or a stack trace; a
 * non-zero exit ends with a one-line message (`spfperf: ...`, commander's `error: ...` for
 * usage, or `file:line:col: message`, which a script error follows with the line and a caret;
 * a run that cannot finish names its tasks on indented lines after it). `allowed`: the statuses
 * the input may give (default 0-3).
 */
export function expectCleanOutcome(r: CliResult, allowed: readonly number[] = [0, 1, 2, 3]): void {
  TALLY.set(r.status, (TALLY.get(r.status) ?? 0) + 1);
  const ctx = `exit ${r.status}, stderr:\n${r.stderr.slice(0, 2000)}`;
  expect(allowed, ctx).toContain(r.status);
  expect(r.stderr, ctx).not.toMatch(/^\s+at .*[(:]/m);
  expect(r.stderr, ctx).not.toMatch(/internal error/i);
  // A task asleep on nothing: the model lost track of why it waits (a lost wake-up in the model).
  expect(r.stderr, ctx).not.toMatch(/waiting on (nothing|\))/);
  if (r.status === 0) return;
  const lines = r.stderr.replace(/\n+$/, '').split('\n');
  if (lines[lines.length - 1] === '(run with --help for usage)') lines.pop();
  // A script error: the message, then the offending line and a caret under the column; a run
  // that cannot finish (3): the message, then one indented line per task it names.
  if (lines.length >= 3 && /^\s*\^\s*$/.test(lines[lines.length - 1])) lines.splice(-2, 2);
  else if (r.status === 3) while (lines.length > 1 && lines[lines.length - 1].startsWith('  ')) lines.pop();
  const last = lines[lines.length - 1] ?? '';
  expect(last, ctx).toMatch(/^(spfperf: |error: |\S.*:\d+(:\d+)?: )\S/);
}

// ---------------------------------------------------------------------------------------------
// Text mutations (scripts and traces alike)

/** Odd numbers: huge, negative, fractional, out of range of doubles and of 64 bits, with units. */
const ODD_NUMBERS = ['0', '-1', '-0', '1', '0.5', '1.5', '1e308', '1e309', '-1e308', '1e-9', '9007199254740993', '18446744073709551616', '99999999999999999999999', '4K', '1.5K', '1T', '-4M', '0x10', '1_000', '0s', '1000000s', '1e6s', '.5', '5.', '00012'];
/** Tokens to inject: words of the language, punctuation, odd characters. */
const TOKENS = ['{', '}', '(', ')', '"', '$', '#', '=', '==', '||', ',', 'process', 'threads', 'loop', 'for', 'if', 'else', 'let', 'mmap', 'munmap', 'mprotect', 'touch', 'fork', 'sleep', 'barrier', 'count', 'compute', 'madvise', 'mremap', 'param', 'metric', 'pin', 'rw', 'anon', 'shared', 'file', 'stack', 'pages(', 'min(', '$ncpus', '$tid', '$seed', 'é', 'ß', '\u00a0', '\u200b', '\u202e', '\ud83d\ude00', '\ufeff', '\u0000', '\t', '\r', '\\', "'", '"unterminated', '\ud800'];

export type Mutation =
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'duplicate'; readonly at: number }
  | { readonly op: 'swap'; readonly at: number; readonly with: number }
  | { readonly op: 'number'; readonly at: number; readonly value: string }
  | { readonly op: 'inject'; readonly at: number; readonly col: number; readonly token: string }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'bom' }
  | { readonly op: 'crlf' };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  { weight: 5, arbitrary: fc.record({ op: fc.constant('number' as const), at: fc.nat(), value: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...ODD_NUMBERS) }, { weight: 3, arbitrary: fc.integer({ min: -1000, max: 100000 }).map(String) }, fc.double().map(String)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('inject' as const), at: fc.nat(), col: fc.nat(), token: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 4 })) }) },
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('bom' as const) }),
  fc.record({ op: fc.constant('crlf' as const) }),
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/** Apply mutations to a text, line by line (deterministic in the mutation list). */
export function mutateText(text: string, muts: readonly Mutation[]): string {
  let lines = text.split('\n');
  let bom = false;
  let crlf = false;
  for (const m of muts) {
    const n = lines.length;
    if (n === 0) break;
    switch (m.op) {
      case 'delete':
        lines.splice(m.at % n, 1);
        break;
      case 'duplicate':
        lines.splice(m.at % n, 0, lines[m.at % n]);
        break;
      case 'swap': {
        const a = m.at % n;
        const b = m.with % n;
        [lines[a], lines[b]] = [lines[b], lines[a]];
        break;
      }
      case 'number': {
        // The at-th number of the text (or the last), replaced.
        const all = [...lines.join('\n').matchAll(/\d+(\.\d+)?([eE][-+]?\d+)?/g)];
        if (all.length === 0) break;
        const hit = all[m.at % all.length];
        const t = lines.join('\n');
        lines = (t.slice(0, hit.index) + m.value + t.slice(hit.index + hit[0].length)).split('\n');
        break;
      }
      case 'inject': {
        const i = m.at % n;
        const col = m.col % (lines[i].length + 1);
        lines[i] = lines[i].slice(0, col) + m.token + lines[i].slice(col);
        break;
      }
      case 'truncate': {
        const t = lines.join('\n');
        lines = t.slice(0, m.at % (t.length + 1)).split('\n');
        break;
      }
      case 'bom':
        bom = true;
        break;
      case 'crlf':
        crlf = true;
        break;
    }
  }
  return (bom ? '\ufeff' : '') + lines.join(crlf ? '\r\n' : '\n');
}

// ---------------------------------------------------------------------------------------------
// Workload scripts from the grammar (docs/workload-language.md)

const NAMES = ['a', 'b', 'c'];
/** Mostly numbers the language takes (sizes, durations), a few it refuses. */
const numArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('0', '1', '2', '3', '4K', '64K', '1M', '2M', '0.5', '100ns', '10us', '0.0001s', '1s') },
  { weight: 3, arbitrary: fc.integer({ min: -5, max: 100 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('1e12', '-1', '1T', '99999999999999999999') },
);
/** Expressions over what a process body may name: $ncpus, $tid, $seed, $p, let x, pages(a). */
const exprOf = (names: readonly string[]): fc.Arbitrary<string> =>
  fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 3, arbitrary: numArb },
      fc.constantFrom(...names),
      fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '%', '<', '==', '&&', '||'), tie('e')).map(([l, o, r]) => `(${l} ${o} ${r})`),
      fc.tuple(fc.constantFrom('min', 'max', 'random', 'uniform', 'choose'), tie('e'), tie('e')).map(([f, l, r]) => `${f}(${l}, ${r})`),
      fc.tuple(fc.constantFrom('floor', 'ceil', '-', '!'), tie('e')).map(([f, x]) => (f === '-' || f === '!' ? `${f}${x}` : `${f}(${x})`)),
    ),
  })).e;
const exprArb = exprOf(['$ncpus', '$tid', '$seed', '$p', 'x', 'pages(a)', 'pages(b)']);
const paramExprArb = exprOf(['$ncpus', '$seed']);

const nameArb = fc.constantFrom(...NAMES);
const protArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('none', 'r', 'rw', 'rwx', 'w', 'x') }, fc.constantFrom('wr', 'rr', 'q'));
const rangeArb = fc.array(fc.tuple(fc.constantFrom('offset', 'length'), exprArb).map(([k, e]) => `${k} ${e}`), { maxLength: 2 }).map((xs) => xs.join(' '));
const mmapOptsArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(protArb, fc.constantFrom('private', 'shared'), fc.constantFrom('anon', 'file "data"')).map((xs) => xs.join(' ')) },
  fc.constantFrom('rw stack', 'rw populate', 'r shared file "data" populate', 'rw private anon stack', 'rw shared stack', 'private private', ''),
);
const touchOptsArb = fc.tuple(fc.constantFrom('', 'seq', 'stride 8K', 'random 3', 'stride 0', 'seq random 2'), fc.subarray(['offset 4K', 'length 8K', 'count ops'])).map(([p, o]) => [p, ...o].join(' '));

const stmtArb: fc.Arbitrary<string> = fc.letrec<{ s: string; block: string }>((tie) => ({
  block: fc.array(tie('s'), { maxLength: 4 }).map((xs) => `{\n${xs.join('\n')}\n}`),
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(nameArb, exprArb, mmapOptsArb).map(([n, e, o]) => `${n} = mmap ${e} ${o}`),
    { weight: 3, arbitrary: fc.tuple(nameArb, fc.constantFrom('read', 'write'), touchOptsArb).map(([n, rw, o]) => `touch ${n} ${rw} ${o}`) },
    fc.tuple(nameArb, rangeArb).map(([n, r]) => `munmap ${n} ${r}`),
    fc.tuple(nameArb, protArb, rangeArb).map(([n, p, r]) => `mprotect ${n} ${p} ${r}`),
    fc.tuple(nameArb, fc.constantFrom('dontneed', 'hugepage', 'nohugepage', 'pageout', 'populate_read', 'populate_write'), rangeArb).map(([n, a, r]) => `madvise ${n} ${a} ${r}`),
    fc.tuple(nameArb, exprArb).map(([n, e]) => `mremap ${n} ${e}`),
    exprArb.map((e) => `compute ${e}`),
    exprArb.map((e) => `sleep ${e}`),
    exprArb.map((e) => `let x = ${e}`),
    fc.constantFrom('barrier', 'barrier b', 'count ops', 'count ops 3'),
    fc.tuple(exprArb, fc.boolean(), tie('block')).map(([e, pin, b]) => `threads ${e}${pin ? ' pin' : ''} ${b}`),
    fc.tuple(fc.option(exprArb), tie('block')).map(([e, b]) => `fork ${e ?? ''} ${b}`),
    fc.tuple(exprArb, tie('block'), tie('block')).map(([e, a, b]) => `parallel {\nthreads ${e} ${a}\nfork ${b}\n}`),
    fc.tuple(fc.constantFrom('"warm"', '"run"', '"a b"'), tie('block')).map(([n, b]) => `phase ${n} ${b}`),
    fc.tuple(fc.option(exprArb), fc.option(exprArb), tie('block')).map(([n, t, b]) => (n === null && t === null ? `loop 2 ${b}` : `loop ${n ?? ''}${t !== null ? ` for ${t}` : ''} ${b}`)),
    fc.tuple(exprArb, tie('block'), fc.option(tie('block'))).map(([e, b, el]) => `if ${e} ${b}${el !== null ? ` else ${el}` : ''}`),
  ),
})).s;

/**
 * A small script from the grammar: a parameter p, maybe a metric, one or two processes that map
 * the regions a, b, c and declare x before their statements (so most scripts check, and run).
 */
export const scriptArb: fc.Arbitrary<string> = fc
  .tuple(
    paramExprArb,
    fc.boolean(),
    fc.array(fc.tuple(fc.option(fc.constantFrom('worker', '"two words"')), fc.option(fc.integer({ min: 0, max: 3 })), fc.array(stmtArb, { minLength: 1, maxLength: 5 })), { minLength: 1, maxLength: 2 }),
  )
  .map(([p, metric, procs]) =>
    [
      `param p = ${p}  # doc`,
      ...(metric ? ['metric "ops/s" = ops / elapsed'] : []),
      ...procs.map(
        ([name, count, body]) =>
          `process${name !== null ? ` ${name}` : ''}${count !== null ? ` count ${count}` : ''} {\n  let x = 1\n  a = mmap 64K rw private anon\n  b = mmap 2M rw shared anon\n  c = mmap 16K rw private file "f"\n  count ops 0\n${body.join('\n')}\n}`,
      ),
    ].join('\n') + '\n',
  );

// ---------------------------------------------------------------------------------------------
// JSON records (trace lines, saved runs)

/** Odd JSON values for a field. */
const ODD_VALUES: readonly unknown[] = [null, true, false, 0, -1, -0.5, 1e308, -1e308, 2 ** 53 + 2, 1.5, '', 'x', '0x', '0xffffffffffffffffffff', '-1', 'NaN', [], [1, 2], {}, { a: 1 }, 'é\u0000\u202e', 'a'.repeat(300)];

export type JsonMutation =
  | { readonly op: 'set'; readonly line: number; readonly path: number; readonly value: unknown }
  | { readonly op: 'drop'; readonly line: number; readonly path: number }
  | { readonly op: 'lines'; readonly m: Mutation };

export const jsonMutationsArb: fc.Arbitrary<JsonMutation[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), line: fc.nat(), path: fc.nat(), value: fc.oneof(fc.constantFrom(...ODD_VALUES), fc.jsonValue({ maxDepth: 2 })) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), line: fc.nat(), path: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('lines' as const), m: mutationArb }) },
  ),
  { minLength: 1, maxLength: 5 },
);

/** Every [object, key] pair of a JSON value, depth first. */
function fieldsOf(v: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []): Array<[Record<string, unknown> | unknown[], string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), fieldsOf(x, out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([v as Record<string, unknown>, k]), fieldsOf(x, out);
  return out;
}

/** Apply mutations to an NDJSON text (a single JSON document is one line of it). */
export function mutateNdjson(text: string, muts: readonly JsonMutation[], oneDocument = false): string {
  let lines = oneDocument ? [text] : text.split('\n');
  for (const m of muts) {
    if (m.op === 'lines') {
      lines = mutateText(lines.join('\n'), [m.m]).split('\n');
      continue;
    }
    const i = m.line % lines.length;
    let rec: unknown;
    try {
      rec = JSON.parse(lines[i]);
    } catch {
      continue;
    }
    const fields = fieldsOf(rec);
    if (fields.length === 0) continue;
    const [obj, key] = fields[m.path % fields.length];
    if (m.op === 'set') (obj as Record<string | number, unknown>)[key] = m.value;
    else if (Array.isArray(obj)) obj.splice(key as number, 1);
    else delete obj[key as string];
    lines[i] = JSON.stringify(rec);
  }
  return lines.join('\n');
}
