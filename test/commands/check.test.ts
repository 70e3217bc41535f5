import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Readable } from 'node:stream';
import { main } from '../../src/cli.js';
import { Capture, spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

/**
 * spfperf check end to end: the lost wake-up of the 2009 RFC found in split-merge (a workload
 * that does not force the order), shrunk, and replayed byte for byte; the fixed RFC passing the
 * same schedules; the pool giving the serial output; the failing run as a trace.
 */

const SEARCH = ['check', '--schedules', '40', '--config', 'kamezawa', 'split-merge'];
const dir = mkdtempSync(join(tmpdir(), 'spfperf-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The shrunk report of a check's output: what its replay command must print. */
function shrunkBlock(out: string): { block: string; replay: string[] } {
  const lines = out.split('\n');
  const from = lines.findIndex((l) => l.startsWith('shrunk in '));
  const to = lines.findIndex((l) => l.startsWith('replay: '));
  expect(from).toBeGreaterThan(0);
  expect(to).toBeGreaterThan(from);
  return { block: lines.slice(from + 1, to).join('\n') + '\n', replay: lines[to].replace(/^replay: spfperf /, '').split(' ') };
}

describe('spfperf check', () => {
  let serial = '';

  test('finds the lost wake-up under kamezawa, prints it, shrinks it, and the replay reproduces it byte for byte', async () => {
    const r = await spfperf([...SEARCH, '-j', '1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    serial = r.stdout;
    expect(r.stdout).toMatch(/^violation in schedule \d+ of 40$/m);
    expect(r.stdout).toMatch(/^invariant violated: no-task-waits-forever by split-merge\/\d+ in invalidate_vma_before_free at 0x[0-9a-f]+ /m);
    // The interleaving names the fault that put the VMA without waking the unmapper.
    expect(r.stdout).toMatch(/split-merge\/\d+ +vma_put +0x[0-9a-f]+$/m);
    expectGolden('check.split-merge.kamezawa.txt', r.stdout);
    const { block, replay } = shrunkBlock(r.stdout);
    expect(replay.slice(0, 2)).toEqual(['check', '--replay']);
    const again = await spfperf(replay);
    expect(again.status).toBe(3);
    expect(again.stdout).toBe(block);
  });

  test('the fixed RFC passes the same schedules', async () => {
    const r = await spfperf(['check', '--schedules', '40', '-j', '1', '--config', 'kamezawa-fixed', 'split-merge']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('spfperf check: 40 pct schedules (depth 3, seed 1) of split-merge --config kamezawa-fixed\n40 schedules, no violation\n');
  });

  test('on worker threads the output is the serial one', async () => {
    const r = await spfperf([...SEARCH, '-j', '2']);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe(serial);
  });

  test('--trace writes the replayed run as a trace that script and report read', async () => {
    const file = join(dir, 'fail.ndjson');
    const { replay } = shrunkBlock(serial);
    const r = await spfperf([...replay, '--trace', file]);
    expect(r.status).toBe(3);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; schedule?: string });
    expect(lines[0].type).toBe('header');
    expect(lines[0].schedule).toBe(replay[2]);
    expect(lines.some((l) => l.type === 'sample')).toBe(true);
    expect(lines.at(-1)!.type).toBe('summary');
    expect((await spfperf(['script', '-i', file])).status).toBe(0);
    expect((await spfperf(['report', '--stdio', '-i', file])).status).toBe(0);
  });

  test('on a terminal, stderr shows the progress (schedules, rate, violations) and clears it at the end', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const io = { stdout, stderr, stdin: Readable.from([]), isTTY: { stdout: false, stderr: true, stdin: false }, env: {} };
    const status = await main(['check', '--schedules', '5', '-j', '1', '--config', 'kamezawa-fixed', 'split-merge'], io);
    expect(status).toBe(0);
    expect(stderr.text).toMatch(/^(\r\x1b\[Kcheck: \d+\/5 schedules, \d+\/s, 0 violations)*\r\x1b\[Kcheck: 5\/5 schedules, \d+\/s, 0 violations\r\x1b\[K$/);
    expect(stdout.text).toContain('5 schedules, no violation');
    // Under CI, or not on a terminal, nothing.
    const ci = { ...io, stdout: new Capture(), stderr: new Capture(), env: { CI: '1' } };
    expect(await main(['check', '--schedules', '5', '-j', '1', '--config', 'kamezawa-fixed', 'split-merge'], ci)).toBe(0);
    expect(ci.stderr.text).toBe('');
  });

  test('Ctrl-C stops the search and says how many schedules ran clean', async () => {
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(handler);
      return () => {};
    };
    const r = await spfperf(['check', '-j', '1', '--config', 'kamezawa-fixed', 'split-merge'], { onInterrupt });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^spfperf check: 1000 pct schedules \(depth 3, seed 1\) of split-merge --config kamezawa-fixed\n(\d+) schedules, no violation \(stopped by Ctrl-C after \1 of 1000\)\n$/);
  });

  test('a second Ctrl-C gives the search up: exit 130', async () => {
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(() => {
        handler();
        handler();
      });
      return () => {};
    };
    const r = await spfperf(['check', '-j', '1', '--config', 'kamezawa-fixed', 'split-merge'], { onInterrupt });
    expect(r.status).toBe(130);
    expect(r.stdout).toBe('spfperf check: 1000 pct schedules (depth 3, seed 1) of split-merge --config kamezawa-fixed\n');
  });

  test.each([
    [['--strategy', 'bfs'], "option '--strategy': unknown strategy 'bfs' (known: random, pct)"],
    [['--strategy', 'random', '--depth', '2'], "option '--depth' applies to --strategy pct only"],
    [['--schedules', '0'], "option '--schedules': 0 is out of range (1..100000000)"],
    [['--depth', 'x'], "option '--depth': 'x' is not a whole number"],
    [['--replay', 'pct:d3:s1:i1', '--schedules', '5'], "option '--schedules' cannot be used with '--replay': the schedule id sets it"],
    [['--replay', 'pct:s1:i1'], "option '--replay': 'pct:s1:i1' is not a schedule id (a pct id needs its depth, d<n>; e.g. pct:d3:s1:i417 or random:s1:i12:k0-3,9)"],
    [['--replay', 'pct:d3:s1:i1', '--trace', '/nonexistent-dir/x.ndjson'], "option '--trace': cannot write '/nonexistent-dir/x.ndjson': No such file or directory"],
  ])('%j is a one-line usage error, exit 1', async (args, msg) => {
    const r = await spfperf(['check', ...args, 'split-merge']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`spfperf: ${msg}\n`);
    expect(r.stdout).toBe('');
  });
});
