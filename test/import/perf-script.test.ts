import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { hex64, parsePerfScriptLine, PerfLineError, readPerfScript, type PerfEvent } from '../../src/import/perf-script.js';
import { UsageError } from '../../src/errors.js';
import { ROOT } from '../helpers/golden.js';

const CAP = join(ROOT, 'fixtures', 'perf-captures', 'import');

async function readAll(text: string, skipBad = false): Promise<{ events: PerfEvent[]; skipped: number }> {
  const events: PerfEvent[] = [];
  const st = await readPerfScript(Readable.from([text]), { name: 't.txt', skipBad }, (e) => events.push(e));
  return { events, skipped: st.skipped };
}

function one(text: string): PerfEvent {
  const e = parsePerfScriptLine(text, 1);
  if (e instanceof PerfLineError) throw new Error(e.message);
  return e;
}

describe('parsePerfScriptLine', () => {
  it('reads the default layout (no pid) of a fault line', () => {
    const e = one('             app 18812 [001]  1949.857757:  exceptions:page_fault_user: address=0x7f9f5a520b70 ip=0x7f9f5a520b70 error_code=0x14');
    expect(e).toMatchObject({ k: 'fault', comm: 'app', pid: null, tid: 18812, cpu: 1, ns: 1949857757000, address: 0x7f9f5a520b70, errorCode: 0x14 });
  });

  it('reads the -F comm,pid,tid,cpu,time,event,trace layout, and a comm with spaces', () => {
    const e = one('          forker  2501/2504  [001]  3445.148007:   syscalls:sys_enter_munmap: addr: 0x7f0d816af000, len: 0x00100000');
    expect(e).toMatchObject({ k: 'munmap', pid: 2501, tid: 2504, addr: 0x7f0d816af000, len: 0x100000 });
    expect(one('  V8 Worker 12/13 [000] 1.000001: exceptions:page_fault_user: address=0x1000 ip=0x2 error_code=0x6')).toMatchObject({ comm: 'V8 Worker', pid: 12, tid: 13 });
  });

  it('reads every syscall tracepoint with its argument names', () => {
    const mm = one('             app 18812 [001]  1949.858302:     syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x000086f3, prot: 0x00000001, flags: 0x00000002, fd: 0x00000003, off: 0x00000000');
    expect(mm).toMatchObject({ k: 'mmap-enter', addr: 0, len: 0x86f3, prot: 1, flags: 2, fd: 3, off: 0 });
    const anon = one('             app 18812 [001]  1949.858221:     syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000');
    expect(anon).toMatchObject({ fd: -1 });
    expect(one('             app 18812 [001]  1949.858234:      syscalls:sys_exit_mmap: 0x7f9f5a4fc000')).toMatchObject({ k: 'mmap-exit', ret: 0x7f9f5a4fc000 });
    expect(one('             app 18812 [001]  1949.858234:      syscalls:sys_exit_mmap: 0xfffffffffffffff4')).toMatchObject({ k: 'mmap-exit', ret: -12 });
    expect(one('             app 18812 [001]  1949.859022: syscalls:sys_enter_mprotect: start: 0x7f9f5a4e0000, len: 0x00004000, prot: 0x00000001')).toMatchObject({ k: 'mprotect', start: 0x7f9f5a4e0000, len: 0x4000, prot: 1 });
    expect(one('             app 18814 [000]  1949.865058:  syscalls:sys_enter_madvise: start: 0x7f9f5918c000, len_in: 0x00080000, behavior: 0x00000004')).toMatchObject({ k: 'madvise', len: 0x80000, behavior: 4 });
  });

  it('reads sched_process_fork and sched_process_exit, with and without group_dead', () => {
    expect(one('          forker  2501/2501  [000]  3445.138876:    sched:sched_process_fork: comm=forker pid=2501 child_comm=forker child_pid=2503')).toMatchObject({ k: 'fork', parentPid: 2501, childPid: 2503, childComm: 'forker' });
    expect(one('          forker  2503/2505  [000]  3445.158998:    sched:sched_process_exit: comm=forker pid=2505 prio=120 group_dead=false')).toMatchObject({ k: 'exit', exitPid: 2505, groupDead: false });
    expect(one('          forker  2503/2505  [000]  3445.158998:    sched:sched_process_exit: comm=forker pid=2505 prio=120')).toMatchObject({ k: 'exit', groupDead: null });
  });

  it('keeps a tracepoint it does not use as "other"', () => {
    expect(one('    app 1 [000] 1.5: syscalls:sys_enter_brk: brk: 0x00000000')).toMatchObject({ k: 'other', event: 'syscalls:sys_enter_brk', ns: 1.5e9 });
  });

  it('says what is wrong, and where, for a line that is not perf script text', () => {
    const e = parsePerfScriptLine('hello world', 3);
    expect(e).toBeInstanceOf(PerfLineError);
    expect((e as PerfLineError).col).toBe(1);
    const f = parsePerfScriptLine('  app 1 [000] 1.000001: exceptions:page_fault_user: address=0x1000 ip=0x2', 1) as PerfLineError;
    expect(f).toBeInstanceOf(PerfLineError);
    expect(f.message).toContain("expected 'address=0x... ip=0x... error_code=0x...'");
    expect(f.col).toBe('  app 1 [000] 1.000001: exceptions:page_fault_user: '.length + 1);
    const g = parsePerfScriptLine('  app 1 [000] 1.000001: syscalls:sys_enter_munmap: addr: 0x1000', 1) as PerfLineError;
    expect(g.message).toContain("'addr: 0x..., len: 0x...'");
  });

  it('never throws on a truncated or mutated capture line (fuzz)', () => {
    const lines = readFileSync(join(CAP, 'forker.script.txt'), 'utf8').split('\n').slice(570, 620);
    let seed = 7;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    let errors = 0;
    for (const l of lines) {
      for (let cut = 0; cut < l.length; cut += 3) {
        const r = parsePerfScriptLine(l.slice(0, cut), 1);
        if (r instanceof PerfLineError) errors++;
      }
      for (let i = 0; i < 20; i++) {
        const at = rnd(l.length);
        const mutated = l.slice(0, at) + String.fromCharCode(32 + rnd(90)) + l.slice(at + 1);
        expect(() => parsePerfScriptLine(mutated, 1)).not.toThrow();
      }
    }
    // Almost every truncation is an error (a few cut a hex number short and still parse).
    expect(errors).toBeGreaterThan(0.9 * lines.reduce((n, l) => n + Math.ceil(l.length / 3), 0));
  });

  it('hex64 gives negative errnos for the top half', () => {
    expect(hex64('0xffffffffffffffda')).toBe(-38);
    expect(hex64('0x7fffffffffff')).toBe(0x7fffffffffff);
  });
});

describe('readPerfScript', () => {
  it('streams each capture: as many events of each kind as its lines say', async () => {
    for (const f of ['app', 'node', 'forker']) {
      const path = join(CAP, `${f}.script.txt`);
      const text = readFileSync(path, 'utf8');
      const counts = new Map<string, number>();
      const st = await readPerfScript(createReadStream(path), { name: path }, (e) => counts.set(e.k, (counts.get(e.k) ?? 0) + 1));
      const grep = (s: string): number => text.split('\n').filter((l) => l.includes(s)).length;
      expect(st.lines).toBe(text.split('\n').length - 1);
      expect(counts.get('fault')).toBe(grep(' exceptions:page_fault_user: '));
      expect(counts.get('mmap-enter')).toBe(grep(' syscalls:sys_enter_mmap: '));
      expect(counts.get('mmap-exit')).toBe(grep(' syscalls:sys_exit_mmap: '));
      expect(counts.get('munmap')).toBe(grep(' syscalls:sys_enter_munmap: '));
      expect(counts.get('fork') ?? 0).toBe(grep(' sched:sched_process_fork: '));
      expect(counts.get('other')).toBeUndefined();
    }
  });

  it('fails on the first bad line with file:line:col, exit code 2', async () => {
    const good = '  app 1 [000] 1.000001: exceptions:page_fault_user: address=0x1000 ip=0x2 error_code=0x6\n';
    const p = readAll(good + good + '  app 1 [000] 1.00000\n' + good);
    await expect(p).rejects.toThrow(UsageError);
    await expect(readAll(good + good + '  app 1 [000] 1.00000\n')).rejects.toThrow(/^t\.txt:3:1: not a perf script line/);
    const e = await readAll('x\n' + good).catch((x: unknown) => x as UsageError);
    expect((e as UsageError).exitCode).toBe(2);
  });

  it('with skipBad counts the bad lines and keeps the good ones', async () => {
    const good = '  app 1 [000] 1.000001: exceptions:page_fault_user: address=0x1000 ip=0x2 error_code=0x6\n';
    const r = await readAll(`${good}garbage\n\n# a comment\n${good}  app 1 [000] 1.2: exceptions:page_fault_user: address=zz\n`, true);
    expect(r.events.length).toBe(2);
    expect(r.skipped).toBe(2);
  });
});
