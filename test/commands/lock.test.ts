import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { lineRows, lockView } from '../../src/commands/lock.js';

const RUN = ['--cpus', '4', '--', 'ebizzy', 'threads=4', 'seconds=0.005s'];

describe('spfperf lock contention', () => {
  for (const config of ['base', 'dufour-v11', 'per-vma-lock']) {
    it(`prints perf lock contention's table by caller, then the cache-line transfers (${config})`, async () => {
      const r = await spfperf(['lock', 'contention', '--config', config, ...RUN]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(''); // to stderr, as perf 6.1 prints it
      expectGolden(`lock/ebizzy.${config}.txt`, r.stderr);
      // The mmap lock's read side at the fault entry, under every design (the fallbacks under per-VMA locks and SPF).
      expect(r.stderr).toMatch(/\n +\d+ .* rwsem:R {3}do_user_addr_fault\n/);
    });
  }

  it('by lock (-l), by task (-t), sorted on another key (-k / --sort), the first N (-E), without the lines (--no-lines)', async () => {
    const l = await spfperf(['lock', 'contention', '-l', '-E', '4', '--config', 'dufour-v11', ...RUN]);
    expect(l.status).toBe(0);
    expectGolden('lock/ebizzy.dufour-v11.lock-addr.txt', l.stderr);
    expect(l.stderr).toMatch(/ ffff8881[0-9a-f]{8} {3}mmap_lock \(rwsem\)\n/);
    expect(l.stderr.split('\n\n')[1].trim().split('\n')).toHaveLength(4);
    const t = await spfperf(['lock', 'contention', '-t', '--sort', 'contended', '--no-lines', ...RUN]);
    expect(t.status).toBe(0);
    expectGolden('lock/ebizzy.base.threads.txt', t.stderr);
    expect(t.stderr).not.toContain('transfers');
    const counts = t.stderr.split('\n').slice(2, -1).map((s) => Number(s.trim().split(/\s+/)[0]));
    expect(counts.length).toBeGreaterThan(1);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const k = await spfperf(['lock', 'contention', '-t', '-k', 'contended', '--no-lines', ...RUN]);
    expect(k.stderr).toBe(t.stderr);
  });

  it('--output writes the tables to a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spfperf-lock-')), 'lock.txt');
    const r = await spfperf(['lock', 'contention', '--output', file, ...RUN]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(file, 'utf8')).toMatch(/^ contended {3}total wait/);
  });

  it('-i: a trace without lock events, or a workload beside it, is refused in one line', async () => {
    const noLock = await spfperf(['lock', 'contention', '-i', 'fixtures/traces/ebizzy-faults.ndjson']);
    expect(noLock.status).toBe(1);
    expect(noLock.stderr).toBe("spfperf: fixtures/traces/ebizzy-faults.ndjson: no lock events in this trace (lock:contention_begin): record them with 'spfperf lock record'\n");
    const both = await spfperf(['lock', 'contention', '-i', 'x.ndjson', '--', 'ebizzy']);
    expect(both.status).toBe(1);
    expect(both.stderr).toBe("spfperf: option '-i' reads a recording: no workload to run with it (got 'ebizzy')\n");
  });

  it('Ctrl-C stops the run and prints the waits counted so far, saying where it stopped', async () => {
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(handler);
      return () => {};
    };
    const r = await spfperf(['lock', 'contention', '--cpus', '4', '--', 'ebizzy', 'threads=4', 'seconds=10s'], { onInterrupt });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^spfperf: lock contention stopped \(Ctrl-C\) at (\d+\.\d+) s of simulated time; the waits up to there follow\n contended {3}total wait/);
    expect(Number(/at (\d+\.\d+) s/.exec(r.stderr)![1])).toBeLessThan(10);
    const rec = await spfperf(['lock', 'record', '-o', '-', '--cpus', '4', '--', 'ebizzy', 'threads=4', 'seconds=10s'], { onInterrupt });
    expect(rec.status).toBe(0);
    expect(rec.stderr).toMatch(/^spfperf: lock record stopped \(Ctrl-C\) at \d+\.\d+ s of simulated time; the trace ends there\n\[ spfperf lock record: /);
    const last = JSON.parse(rec.stdout.trim().split('\n').pop()!) as { type: string; stopped: boolean };
    expect(last).toMatchObject({ type: 'summary', stopped: true });
  });

  it('bad input: one line naming the option, exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['-l', '-t', ...RUN], /^spfperf: options '-t' and '-l' cannot be used together/],
      [['--sort', 'acquired', ...RUN], /^spfperf: option '--sort': unknown key 'acquired' \(known: contended, wait_total, wait_max, wait_min, avg_wait\)\n$/],
      [['-E', 'x', ...RUN], /^spfperf: option '-E': 'x' is not a whole number\n$/],
      [['-F', 'contended,acquired', ...RUN], /^spfperf: option '-F': unknown field 'acquired' \(known: contended, wait_total, wait_max, wait_min, avg_wait\)\n$/],
      [['--cpus', '4'], /^spfperf: lock contention: no workload given/],
      [['--', 'no-such-workload'], /^spfperf: .*no-such-workload/],
    ];
    for (const [args, msg] of cases) {
      const r = await spfperf(['lock', 'contention', ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('--help names the subcommand, the keys and the options', async () => {
    const h = await spfperf(['lock', 'contention', '--help']);
    expect(h.status).toBe(0);
    expectGolden('lock/help.txt', h.stdout);
    const top = await spfperf(['lock', '--help']);
    expect(top.stdout).toContain('contention');
  });
});

describe('lock contention options and lines', () => {
  it('defaults to perf\'s: by caller, sorted on the total wait, every entry, with the lines', () => {
    const four = ['contended', 'wait_total', 'wait_max', 'avg_wait'];
    expect(lockView({})).toEqual({ aggr: 'caller', sort: 'wait_total', entries: Infinity, fields: four, lines: true });
    expect(lockView({ lockAddr: true, key: 'wait_max', entries: '3', lines: false })).toEqual({ aggr: 'addr', sort: 'wait_max', entries: 3, fields: four, lines: false });
    expect(lockView({ field: 'wait_min,contended,wait_min' }).fields).toEqual(['wait_min', 'contended']);
  });

  it('puts the lines of one kernel name together (the model names some per process)', () => {
    const rows = lineRows([
      { name: 'mmap_lock(1000)', transfers: 3, waitNs: 300, queuedNs: 10, maxNs: 200 },
      { name: 'mmap_lock(1001)', transfers: 1, waitNs: 50, queuedNs: 0, maxNs: 50 },
      { name: 'ptl', transfers: 2, waitNs: 20, queuedNs: 0, maxNs: 10 },
    ]);
    expect(rows).toEqual([
      { name: 'mmap_lock', transfers: 4, waitNs: 350, queuedNs: 10, maxNs: 200 },
      { name: 'ptl', transfers: 2, waitNs: 20, queuedNs: 0, maxNs: 10 },
    ]);
  });
});
