import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { designCallers, LOCK_EVENTS } from '../../src/commands/lock-record.js';

const RUN = ['--cpus', '4', '--', 'ebizzy', 'threads=4', 'seconds=0.005s'];

describe('spfperf lock record', () => {
  it('lock record writes the waits as lock:contention_begin/end, and contention -i reads them back to the same tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-lock-'));
    const file = join(dir, 'lock.ndjson');
    const rec = await spfperf(['lock', 'record', '-o', file, '--config', 'dufour-v11', ...RUN]);
    expect(rec.status).toBe(0);
    expect(rec.stderr).toMatch(/^\[ spfperf lock record: Captured and wrote [\d.]+ MB .*lock\.ndjson \((\d+) samples\) \]\n$/);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'header', events: ['lock:contention_begin', 'lock:contention_end'] });
    expect(lines[1]).toMatchObject({ type: 'sample', event: 'lock:contention_begin', comm: 'ebizzy' });
    expect(Object.keys(lines[1])).toEqual(['type', 'ts', 'cpu', 'pid', 'tid', 'comm', 'event', 'lock_addr', 'flags', 'lock', 'sym']);
    const samples = lines.filter((l) => l.type === 'sample');
    const begins = samples.filter((l) => l.event === 'lock:contention_begin').length;
    expect(lines[lines.length - 1]).toMatchObject({ type: 'summary', samples: { 'lock:contention_begin': begins, 'lock:contention_end': samples.length - begins } });
    expect(rec.stderr).toContain(`(${samples.length} samples)`);
    // Read back: the tables of the live run, byte for byte, in every view.
    for (const view of [[], ['-l'], ['-t', '-k', 'avg_wait']]) {
      const back = await spfperf(['lock', 'contention', '-i', file, ...view]);
      const live = await spfperf(['lock', 'contention', ...view, '--config', 'dufour-v11', ...RUN]);
      expect(back.status).toBe(0);
      expect(back.stderr, view.join(' ')).toBe(live.stderr);
    }
    // script and report read the trace as any other.
    expect((await spfperf(['script', '-i', file])).stdout).toMatch(/^ +ebizzy +\d+ \[\d{3}\] +[\d.]+: lock:contention_begin:\n/);
    expect((await spfperf(['report', '--stdio', '-i', file])).stdout).toContain("of event 'lock:contention_begin'");
    // To stdout with -o -.
    const out = await spfperf(['lock', 'record', '-o', '-', ...RUN]);
    expect(out.stdout.split('\n')[0]).toMatch(/^\{"type":"header"/);
  });

  it('records the two tracepoints perf lock records, and takes the designs\' names of their callers', async () => {
    expect(LOCK_EVENTS).toEqual(['lock:contention_begin', 'lock:contention_end']);
    expect(designCallers().get('DufourStrategy.faultWithoutMmapLock')).toBe('get_vma');
    const none = await spfperf(['lock', 'record', '-o', '-']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^spfperf: lock record: no workload given/);
  });
});
