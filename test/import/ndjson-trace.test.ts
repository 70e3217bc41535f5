import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeNdjson, perfEventOfSample } from '../../src/import/ndjson-trace.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';
import { spfperf } from '../helpers/cli.js';
import { ADDRESS_SPACE_CALLS as SCRIPT } from '../helpers/address-space-calls.js';

const CALLS = 'syscalls:*,sched:*,exceptions:page_fault_user';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'spfperf-rt-'));

async function pageFaults(args: readonly string[]): Promise<number> {
  const r = await spfperf(['stat', '-x,', '-e', 'page-faults', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stderr.trim().split(',')[0]);
}

describe('import of spfperf\'s own trace: the round trip record -> import -> stat', () => {
  it('the imported script takes the same page-faults as the recorded run', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'calls.spf'), SCRIPT);
    const runs: [string, string[]][] = [
      ['page_fault1', ['page_fault1', 'threads=2', 'iterations=1', 'size=1M']],
      // mprotect of every even chunk, by each thread on its own mapping
      ['ebizzy', ['--cpus', '2', 'ebizzy', 'threads=2', 'chunks=4', 'chunk_size=64K', 'seconds=0.0005s', 'permissions=1']],
      ['calls', [join(dir, 'calls.spf')]],
    ];
    for (const [name, run] of runs) {
      const trace = join(dir, `${name}.ndjson`);
      const spf = join(dir, `${name}.imported.spf`);
      const rec = await spfperf(['record', '-o', trace, '-e', CALLS, ...run]);
      expect(rec.status, rec.stderr).toBe(0);
      // No --format: the trace's header line says what it is.
      const imp = await spfperf(['import', '-i', trace, '-o', spf]);
      expect(imp.status, imp.stderr).toBe(0);
      expect(imp.stderr).toMatch(/ -> .*\(0 synthesized mappings/);
      const text = readFileSync(spf, 'utf8');
      expect(text).toMatch(/^# Imported by spfperf import from .* \(an spfperf trace, \d+ lines\)\./);
      expect(text).toMatch(/^\s*m1 = mmap /m);
      const want = await pageFaults(run);
      // On the same machine (the imported script runs on any).
      const got = await pageFaults(run[0] === '--cpus' ? ['--cpus', '2', spf] : [spf]);
      expect(want, name).toBeGreaterThan(0);
      expect(got, name).toBe(want);
      if (name === 'ebizzy') expect(text).toMatch(/^\s*mprotect m\d+ r offset/m);
      if (name === 'calls') {
        expect(text).toMatch(/madvise m1 dontneed offset 0x8000 length 16K/);
        expect(text).toMatch(/fork \{ {3}# pid \d+\n\s+touch m1 write offset 0xc000 length 1\n/);
        expect(text).toMatch(/m2 = mmap 16K r private file/);
      }
    }
  });

  it('--format ndjson reads the same; perf-script text is still read as such, and an ndjson trace as perf-script is an error', async () => {
    const dir = tmp();
    const trace = join(dir, 't.ndjson');
    expect((await spfperf(['record', '-o', trace, '-e', CALLS, 'page_fault1', 'threads=1', 'iterations=1', 'size=64K'])).status).toBe(0);
    const auto = await spfperf(['import', '-i', trace]);
    const named = await spfperf(['import', '--format', 'ndjson', '-i', trace]);
    expect(named.status).toBe(0);
    expect(named.stdout).toBe(auto.stdout);
    // From stdin too.
    const piped = await spfperf(['import'], { stdin: readFileSync(trace) });
    expect(piped.stdout.split('\n').slice(1).join('\n')).toBe(auto.stdout.split('\n').slice(1).join('\n'));
    const wrong = await spfperf(['import', '--format', 'perf-script', '-i', trace]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(new RegExp(`^spfperf: ${trace}:1:1: not a perf script line`));
    const bad = await spfperf(['import', '--format', 'json', '-i', trace]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/option '--format': unknown format 'json' \(expected: perf-script, ndjson\)/);
  });

  it('a sample without the fields import needs: file:line and exit 2, or skipped and counted with --skip-bad', async () => {
    const dir = tmp();
    const trace = join(dir, 't.ndjson');
    expect((await spfperf(['record', '-o', trace, '-e', CALLS, 'page_fault1', 'threads=1', 'iterations=1', 'size=64K'])).status).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"event":"syscalls:sys_enter_mmap"'));
    lines[at] = lines[at].replace(/,"len":"0x[0-9a-f]+"/, '');
    const broken = join(dir, 'broken.ndjson');
    writeFileSync(broken, lines.join('\n'));
    const r = await spfperf(['import', '-i', broken]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`spfperf: ${broken}:${at + 1}: syscalls:sys_enter_mmap sample without 'len'\n`);
    const s = await spfperf(['import', '--skip-bad', '-i', broken]);
    expect(s.status).toBe(0);
    expect(s.stderr).toMatch(/, 1 line not importable skipped\)/);
    expect(s.stdout).toMatch(/\(an spfperf trace, \d+ lines, 1 not importable skipped\)/);
    // A trace of no address-space event: nothing to replay.
    const none = join(dir, 'none.ndjson');
    expect((await spfperf(['record', '-o', none, '-e', 'faults', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K'])).status).toBe(0);
    const n = await spfperf(['import', '-i', none]);
    expect(n.status).toBe(2);
    expect(n.stderr).toMatch(/no page_fault_user nor mmap events among its 16: nothing to replay/);
  });

  it('reads each sample as the perf script line of its tracepoint', () => {
    const head = { type: 'sample', ts: 5000, cpu: 1, pid: 1000, tid: 1002, comm: 'w' } as const;
    const s = (o: Partial<TraceSample>): TraceSample => ({ ...head, event: '', ...o }) as TraceSample;
    expect(perfEventOfSample(s({ event: 'syscalls:sys_exit_mmap', ret: '0xfffffffffffffff4' }), 3)).toMatchObject({ k: 'mmap-exit', ret: -12, line: 3, ns: 5000, pid: 1000, tid: 1002 });
    expect(perfEventOfSample(s({ event: 'syscalls:sys_exit_mmap', ret: 5 }), 3)).toBe("syscalls:sys_exit_mmap sample without a 'ret' of hex digits");
    expect(perfEventOfSample(s({ event: 'exceptions:page_fault_user', address: '0x7ffff7ffa123', ip: '0x401000', error_code: 6 }), 1)).toMatchObject({ k: 'fault', address: 0x7ffff7ffa123, errorCode: 6 });
    expect(perfEventOfSample(s({ event: 'sched:sched_process_fork', parent_pid: 1002, child_pid: 1005 }), 1)).toMatchObject({ k: 'fork', childPid: 1005, childComm: 'w' });
    expect(perfEventOfSample(s({ event: 'faults' }), 1)).toMatchObject({ k: 'other', event: 'faults' });
    expect(looksLikeNdjson('\uFEFF{"type":"header"')).toBe(true);
    expect(looksLikeNdjson('             app 18812 [001]  1949.858221: ')).toBe(false);
  });
});
