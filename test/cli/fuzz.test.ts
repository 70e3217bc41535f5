import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_PRESET_VALUES, REPORT_SORT_VALUES, SCRIPT_FIELD_VALUES } from '../../src/cli-values.js';
import { CONFIG_KEYS } from '../../src/config/kconfig.js';
import { spfperf } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';
import { expectCleanOutcome, FUZZ_SEED, fuzzOptions, interruptAfter, jsonMutationsArb, mutateNdjson, mutateText, mutationsArb, scriptArb, TALLY, timeoutOf } from '../helpers/fuzz.js';

/**
 * Fuzzing the whole CLI in-process (src/cli.ts main) with fast-check: workload scripts mutated from
 * the shipped ones or built from the grammar, --config strings, NDJSON traces and saved runs
 * mutated from recorded ones. Whatever the input, the exit status is one of the README's 0-3 and
 * a failure is a one-line message, never a stack trace or an internal error (70). FUZZ_RUNS cases
 * in all (npm test: 300; npm run fuzz: 10,000), FUZZ_SEED replays a run (docs/check.md#fuzzing).
 */

/**
 * The caps on a run: 1 ms of simulated time (SPFPERF_SIM_LIMIT_NS, src/commands/stat-runs.ts), and
 * a Ctrl-C after 3 turns of the event loop (a loop whose rounds take no time never reaches 1 ms).
 */
const CAP_TURNS = 3;
const CAPPED = { onInterrupt: interruptAfter(CAP_TURNS), env: { ...process.env, SPFPERF_DEBUG: undefined, SPFPERF_SIM_LIMIT_NS: '1000000' } };
const RUN = ['--cpus', '2', '--machine', 'x86-vm16'];

let dir: string;
const workloads = readdirSync(join(ROOT, 'workloads'))
  .filter((f) => f.endsWith('.spf'))
  .map((f) => readFileSync(join(ROOT, 'workloads', f), 'utf8'));
const traces = ['ebizzy-faults.ndjson', 'ebizzy-spf.ndjson'].map((f) => readFileSync(join(ROOT, 'fixtures/traces', f), 'utf8'));
let saved: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spfperf-fuzz-'));
  const r = await spfperf(['stat', ...RUN, '--save', join(dir, 'base.json'), 'page_fault1', 'threads=2', 'iterations=1', 'size=64K']);
  expect(r.status, r.stderr).toBe(0);
  saved = readFileSync(join(dir, 'base.json'), 'utf8');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  const n = [...TALLY.values()].reduce((a, b) => a + b, 0);
  const by = [...TALLY].sort((a, b) => a[0] - b[0]).map(([st, c]) => `exit ${st}: ${c}`).join(', ');
  if (process.env.FUZZ_RUNS !== undefined) console.log(`fuzz: ${n} cases checked, seed ${FUZZ_SEED} (${by})`);
});

/** Workload parameters: right, wrong, unknown, out of range. */
const paramArgsArb = fc.array(fc.constantFrom('threads=1', 'threads=3', 'threads=0', 'threads=-1', 'threads=1e9', 'seconds=0.0001s', 'seconds=-1', 'iterations=1', 'size=64K', 'size=0', 'mode=processes', 'mode=bogus', 'nosuch=1', 'threads', '=1', 'p=2'), { maxLength: 2 });

/** A script under stat, capped. FUZZ_SLOW=DIR keeps the inputs that took over a second there. */
async function statScript(text: string, extra: readonly string[]): Promise<void> {
  const file = join(dir, 'w.spf');
  writeFileSync(file, text);
  const t0 = performance.now();
  const r = await spfperf(['stat', ...RUN, file, ...extra], { ...CAPPED, onInterrupt: interruptAfter(CAP_TURNS) });
  const ms = performance.now() - t0;
  if (process.env.FUZZ_SLOW && ms > 1000) writeFileSync(join(process.env.FUZZ_SLOW, `slow-${Math.round(ms)}.spf`), `# ${extra.join(' ')}\n${text}`);
  // A script with an `expect` states what memory must hold; a mutation can make that wrong (a
  // write taken out, a loop count changed), and then the run ends in the invariant violation
  // read-sees-last-write (exit 4), as the README's table says. Nothing else may exit 4 here.
  const expects = /^\s*expect\b/m.test(text);
  expectCleanOutcome(r, expects ? [0, 1, 2, 3, 4] : [0, 1, 2, 3]);
  if (r.status === 4) expect(r.stderr).toMatch(/^spfperf: invariant violated: read-sees-last-write by /m);
}

describe('fuzz: workload scripts', () => {
  it('shipped workloads, mutated, run under stat', async () => {
    const arb = fc.tuple(fc.nat({ max: workloads.length - 1 }), mutationsArb, paramArgsArb);
    await fc.assert(
      fc.asyncProperty(arb, async ([w, muts, extra]) => statScript(mutateText(workloads[w], muts), extra)),
      fuzzOptions(0.25),
    );
  }, timeoutOf(0.25));

  it('scripts from the grammar run under stat', async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb, paramArgsArb, async (text, extra) => statScript(text, extra)),
      fuzzOptions(0.15),
    );
  }, timeoutOf(0.15));
});

describe('fuzz: --config', () => {
  const keys = Object.keys(CONFIG_KEYS);
  const oddValue = fc.constantFrom('', '0', '-1', '1e309', '4.17', '2.6.33', '6.8.0-45-generic', '99.99', '0.0', 'x', 'Y', ' y', 'y ', 'yes', 'none', '=', 'a=b', 'é', '\u0000');
  const valueOf = (k: string): fc.Arbitrary<string> => {
    const d = CONFIG_KEYS[k];
    return fc.oneof(d.values.length > 0 ? fc.constantFrom(...d.values) : fc.constant(d.def), oddValue, fc.integer().map(String));
  };
  const itemArb = fc.oneof(
    fc.constantFrom(...CONFIG_PRESET_VALUES),
    { weight: 3, arbitrary: fc.constantFrom(...keys).chain((k) => valueOf(k).map((v) => `${k}=${v}`)) },
    fc.tuple(fc.constantFrom(...keys, ...CONFIG_PRESET_VALUES), fc.constantFrom('', '=', ' ', 'x', '-', '.config')).map(([k, s]) => k + s),
    fc.string({ maxLength: 12 }),
  );
  /** A .config file: KEY=VALUE lines, comments, blank and odd lines. */
  const fileArb = fc.array(fc.oneof(itemArb, fc.constantFrom('# comment', '', '# CONFIG_PER_VMA_LOCK is not set', 'CONFIG_X', '\ufeffthp=never', 'kernel=4.17\r')), { maxLength: 6 });

  it('--config items and .config files under stat', async () => {
    const arb = fc.array(fc.oneof({ weight: 4, arbitrary: itemArb.map((s) => ({ item: s })) }, fileArb.map((lines) => ({ file: lines.join('\n') }))), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(arb, async (items) => {
        const args: string[] = [];
        items.forEach((x, i) => {
          if ('item' in x) args.push('--config', x.item);
          else {
            const f = join(dir, `c${i}.config`);
            writeFileSync(f, x.file);
            args.push('--config', f);
          }
        });
        // page_fault1 cannot hang under any config but the one modelling the 2009 lost wake-up:
        // elsewhere an exit 3 is a bug of the model.
        const mayHang = items.some((x) => ('item' in x ? x.item : x.file).includes('kamezawa'));
        expectCleanOutcome(await spfperf(['stat', ...RUN, ...args, 'page_fault1', 'threads=2', 'iterations=1', 'size=64K'], { ...CAPPED, onInterrupt: interruptAfter(CAP_TURNS) }), mayHang ? [0, 1, 2, 3] : [0, 1, 2]);
      }),
      fuzzOptions(0.15),
    );
  }, timeoutOf(0.15));
});

describe('fuzz: traces and saved runs', () => {
  const traceArb = fc.tuple(fc.nat({ max: traces.length - 1 }), jsonMutationsArb).map(([t, m]) => mutateNdjson(traces[t], m));

  it('report reads a mutated trace (file or stdin)', async () => {
    const arb = fc.tuple(traceArb, fc.boolean(), fc.option(fc.subarray([...REPORT_SORT_VALUES], { minLength: 1, maxLength: 3 })));
    await fc.assert(
      fc.asyncProperty(arb, async ([text, stdin, sort]) => {
        const file = join(dir, 't.ndjson');
        if (!stdin) writeFileSync(file, text);
        const args = ['report', '--stdio', '-i', stdin ? '-' : file, ...(sort !== null ? ['-s', sort.join(',')] : [])];
        expectCleanOutcome(await spfperf(args, stdin ? { stdin: text } : {}));
      }),
      fuzzOptions(0.2),
    );
  }, timeoutOf(0.2));

  it('script reads a mutated trace', async () => {
    const arb = fc.tuple(traceArb, fc.option(fc.subarray([...SCRIPT_FIELD_VALUES], { minLength: 1 })));
    await fc.assert(
      fc.asyncProperty(arb, async ([text, fields]) => {
        const file = join(dir, 's.ndjson');
        writeFileSync(file, text);
        expectCleanOutcome(await spfperf(['script', '-i', file, ...(fields !== null ? ['-F', fields.join(',')] : [])]));
      }),
      fuzzOptions(0.15),
    );
  }, timeoutOf(0.15));

  it('diff reads mutated saved runs and trace summaries', async () => {
    const docArb = fc.oneof(
      jsonMutationsArb.map((m) => mutateNdjson(saved, m, true)),
      traceArb,
      fc.constant(saved),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(docArb, { minLength: 2, maxLength: 3 }), async (docs) => {
        const files = docs.map((d, i) => {
          const f = join(dir, `d${i}.json`);
          writeFileSync(f, d);
          return f;
        });
        expectCleanOutcome(await spfperf(['diff', ...files]));
      }),
      fuzzOptions(0.1),
    );
  }, timeoutOf(0.1));
});
