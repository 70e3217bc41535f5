/**
 * The command table (src/cli.ts): every help it prints, byte for byte (goldens in
 * fixtures/golden/help/), however it is asked for (`--help`, `-h`, `help VERB`), so that a change
 * to how the table is built (docs/performance.md, Start-up) cannot change what a user reads.
 */
import { describe, expect, test } from 'vitest';
import { expectGolden } from './helpers/golden.js';
import { spfperf } from './helpers/cli.js';

const VERBS = ['stat', 'sweep', 'record', 'check', 'report', 'script', 'diff', 'calibrate', 'import', 'plot', 'list', 'worker'];

describe('the command table', () => {
  test('spfperf --help (golden)', async () => {
    const r = await spfperf(['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expectGolden('help/spfperf.txt', r.stdout);
    expect(await spfperf(['-h'])).toEqual(r);
    expect(await spfperf(['help'])).toEqual(r);
  });

  test.each(VERBS)('spfperf %s --help (golden)', async (verb) => {
    const r = await spfperf([verb, '--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expectGolden(`help/${verb}.txt`, r.stdout);
    expect(await spfperf([verb, '-h'])).toEqual(r);
    expect(await spfperf(['help', verb])).toEqual(r);
  });

  test.each(['contention', 'record'])('spfperf lock %s --help (golden)', async (sub) => {
    const r = await spfperf(['lock', sub, '--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expectGolden(`help/lock-${sub}.txt`, r.stdout);
    expect(await spfperf(['lock', 'help', sub])).toEqual(r);
  });

  test('no verb: the help on stderr, exit 1', async () => {
    const r = await spfperf([]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe((await spfperf(['--help'])).stdout);
  });

  test("an unknown option is named with the verb's usage hint; an unknown verb with the nearest one", async () => {
    expect(await spfperf(['list', '--bogus'])).toEqual({ status: 1, stdout: '', stderr: "error: unknown option '--bogus'\n(run with --help for usage)\n" });
    expect(await spfperf(['stat', '--cpu', '2', 'ebizzy'])).toEqual({ status: 1, stdout: '', stderr: "error: unknown option '--cpu'\n(Did you mean --cpus?)\n(run with --help for usage)\n" });
    expect(await spfperf(['lsit'])).toEqual({ status: 1, stdout: '', stderr: "error: unknown command 'lsit'\n(Did you mean list?)\n(run with --help for usage)\n" });
  });
});
