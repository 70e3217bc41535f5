import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePerfScriptLine, PerfLineError, type PerfEvent } from '../../src/import/perf-script.js';
import { spfperf } from '../helpers/cli.js';
import { ADDRESS_SPACE_CALLS as SCRIPT } from '../helpers/address-space-calls.js';

type Rec = Record<string, unknown>;
const parse = (text: string): Rec[] => text.trim().split('\n').map((l) => JSON.parse(l) as Rec);
const CALLS = 'syscalls:*,sched:*';

/** A directory holding calls.spf, and where its trace goes. */
function scratch(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-calls-'));
  writeFileSync(join(dir, 'calls.spf'), SCRIPT);
  return { dir, file: join(dir, 't.ndjson') };
}

describe('the address-space calls as tracepoints (record -e syscalls:*,sched:*)', () => {
  it('records each call with its arguments and result, as perf names and prints them', async () => {
    const t = scratch();
    const r = await spfperf(['record', '-o', t.file, '-e', `${CALLS},exceptions:page_fault_user`, join(t.dir, 'calls.spf')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = parse(readFileSync(t.file, 'utf8'));
    const samples = lines.filter((l) => l.type === 'sample');
    const of = (ev: string): Rec[] => samples.filter((s) => s.event === ev);
    const [enter, fileEnter] = of('syscalls:sys_enter_mmap');
    const [ret, fileRet] = of('syscalls:sys_exit_mmap').map((s) => s.ret as string);
    expect(enter).toMatchObject({ addr: '0x0', len: '0x10000', prot: 3, flags: 0x22, fd: -1, off: 0 });
    // A file mapping: MAP_PRIVATE, not anonymous, an fd of its own.
    expect(fileEnter).toMatchObject({ len: '0x4000', prot: 1, flags: 0x02, off: 0 });
    expect(fileEnter.fd as number).toBeGreaterThanOrEqual(3);
    const base = Number(ret);
    expect(base % 4096).toBe(0);
    expect(base).toBeGreaterThan(0);
    expect(of('syscalls:sys_enter_mprotect')).toMatchObject([{ start: ret, len: '0x4000', prot: 1 }]);
    expect(of('syscalls:sys_enter_madvise')).toMatchObject([{ start: `0x${(base + 32768).toString(16)}`, len_in: '0x4000', behavior: 4 }]);
    expect(of('syscalls:sys_enter_munmap')).toMatchObject([{ addr: ret, len: '0x10000' }, { addr: fileRet, len: '0x4000' }]);
    // The fork: the child's own faults are under the pid it names.
    const [fork] = of('sched:sched_process_fork');
    const child = fork.child_pid as number;
    expect(fork.parent_pid).toBe(fork.tid);
    expect(samples.filter((s) => s.pid === child && s.event === 'exceptions:page_fault_user')).toHaveLength(1);
    // Each task's exit; the last of its process says the group is dead.
    const exits = of('sched:sched_process_exit');
    expect(exits.map((e) => [e.tid, e.group_dead])).toEqual([
      [child, true],
      [fork.tid, true],
    ]);
    // As many samples as stat counts of each (the events are counted whether recorded or not).
    const st = await spfperf(['stat', '-x,', '-e', CALLS, join(t.dir, 'calls.spf')]);
    expect(st.status, st.stderr).toBe(0);
    for (const row of st.stderr.trim().split('\n')) {
      const [value, , name] = row.split(',');
      expect(of(name).length, name).toBe(Number(value));
    }
    // Not in the summary's counters: those are the model's events, as in every saved run.
    const summary = lines[lines.length - 1];
    expect(Object.keys(summary.counters as Rec).some((k) => k.includes('sys_') || k.startsWith('sched:'))).toBe(false);

    // spfperf script prints them as perf script does: import's perf-script parser reads them back.
    const sc = await spfperf(['script', '-i', t.file]);
    expect(sc.status, sc.stderr).toBe(0);
    const parsed = sc.stdout.trimEnd().split('\n').map((l, i) => parsePerfScriptLine(l, i + 1));
    expect(parsed.filter((p) => p instanceof PerfLineError)).toEqual([]);
    const ev = parsed as PerfEvent[];
    expect(ev.map((e) => e.k)).not.toContain('other');
    expect(ev.find((e) => e.k === 'mmap-enter')).toMatchObject({ addr: 0, len: 0x10000, prot: 3, flags: 0x22, fd: -1, off: 0 });
    expect(ev.find((e) => e.k === 'mmap-exit')).toMatchObject({ ret: base });
    expect(ev.find((e) => e.k === 'madvise')).toMatchObject({ start: base + 32768, len: 0x4000, behavior: 4 });
    expect(ev.find((e) => e.k === 'fork')).toMatchObject({ childPid: child });
    expect(ev.filter((e) => e.k === 'exit').map((e) => e.k === 'exit' && e.groupDead)).toEqual([true, true]);
  });

  it('records nothing of them unless asked', async () => {
    const t = scratch();
    const r = await spfperf(['record', '-o', t.file, '-e', 'faults,exceptions:page_fault_user', join(t.dir, 'calls.spf')]);
    expect(r.status, r.stderr).toBe(0);
    const events = new Set(parse(readFileSync(t.file, 'utf8')).map((l) => l.event));
    expect([...events].filter((e) => typeof e === 'string' && /^(syscalls|sched):/.test(e))).toEqual([]);
  });
});
