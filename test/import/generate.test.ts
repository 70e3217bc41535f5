import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../src/import/address-space.js';
import { generateScript, protWord, REPLAY_MIN_GAP_NS, sizeWord } from '../../src/import/generate.js';
import { parsePerfScriptLine, PerfLineError } from '../../src/import/perf-script.js';
import { parseWorkload } from '../../src/workload/parser.js';
import { checkWorkload } from '../../src/workload/check.js';

const h = (n: number): string => `0x${n.toString(16)}`;
/** A perf script line of tid (pid given or not) at `us` microseconds. */
function line(tid: number, us: number, rest: string, pid?: number): string {
  return `  app ${pid !== undefined ? `${pid}/` : ''}${tid} [000] 100.${String(us).padStart(6, '0')}: ${rest}`;
}
const mmapIn = (len: number, prot = 3, flags = 0x22): string => `syscalls:sys_enter_mmap: addr: 0x0, len: ${h(len)}, prot: ${h(prot)}, flags: ${h(flags)}, fd: 0xffffffff, off: 0x0`;
const mmapOut = (a: number): string => `syscalls:sys_exit_mmap: ${h(a)}`;
const fault = (a: number, code = 6): string => `exceptions:page_fault_user: address=${h(a)} ip=0x1 error_code=${h(code)}`;

function script(lines: string[], timeScale = 1): string {
  const as = new AddressSpace();
  for (const [i, l] of lines.entries()) {
    const e = parsePerfScriptLine(l, i + 1);
    if (e instanceof PerfLineError) throw new Error(e.message);
    as.add(e);
  }
  as.finish();
  const text = generateScript(as, { source: 't.txt', timeScale, lines: lines.length, skipped: 0 }).text;
  checkWorkload(parseWorkload(text, 't.spf')); // every generated script is valid
  return text;
}

const A = 0x7f0000000000;

describe('generateScript', () => {
  it('one thread: its mapping in order, consecutive page faults as one touch, gaps as compute', () => {
    const s = script([
      line(1, 0, mmapIn(0x100000)), line(1, 1, mmapOut(A)),
      ...Array.from({ length: 8 }, (_, i) => line(1, 10 + i * 15, fault(A + i * 0x1000))),
      line(1, 500, fault(A + 0x20000, 4)),
      line(1, 600, `syscalls:sys_enter_munmap: addr: ${h(A)}, len: 0x100000`),
    ]);
    const body = s.split('\n').filter((l) => !l.startsWith('#') && l !== '');
    expect(body).toEqual([
      'process "app" {   # pid 1',
      '  m1 = mmap 1M rw private anon',
      '  touch m1 write offset 0 length 32K   # 8 faults',
      '  compute 385us',
      '  touch m1 read offset 0x20000 length 1',
      '  compute 100us',
      '  munmap m1',
      '}',
    ]);
    expect(s).toMatch(/^# Imported by spfperf import from t\.txt/);
    expect(s).toContain('# Events: 9 exceptions:page_fault_user, 1 syscalls:sys_enter_mmap, 1 syscalls:sys_exit_mmap, 1 syscalls:sys_enter_munmap.');
  });

  it('--time-scale stretches the gaps; gaps up to the threshold are not replayed', () => {
    const lines = [line(1, 0, fault(A)), line(1, 40, fault(A + 0x10000)), line(1, 1040, fault(A + 0x30000))];
    expect(REPLAY_MIN_GAP_NS).toBeGreaterThan(40_000);
    expect(script(lines).match(/compute \S+/g)).toEqual(['compute 1000us']);
    expect(script(lines, 2.5).match(/compute \S+/g)).toEqual(['compute 2500us']);
    expect(script(lines, 0)).not.toMatch(/^\s*compute /m);
  });

  it('threads: a branch each; a mapping two threads use is mapped first, with the union of its protections, and stays mapped', () => {
    const s = script([
      line(1, 0, mmapIn(0x8000, 0)), line(1, 1, mmapOut(A)),
      line(2, 5, `syscalls:sys_enter_mprotect: start: ${h(A)}, len: 0x8000, prot: 0x3`),
      line(2, 6, fault(A + 0x1000)),
      line(1, 7, `syscalls:sys_enter_munmap: addr: ${h(A)}, len: 0x8000`),
      line(2, 8, mmapIn(0x4000)), line(2, 9, mmapOut(A + 0x100000)), line(2, 10, fault(A + 0x100000)),
    ]);
    expect(s).toContain('  m1 = mmap 32K rw private anon   # mapped at 0x7f0000000000 by tid 1 at +1us; used by 2 threads');
    expect(s).toContain('  threads 2 {\n    if $tid == 0 {   # tid 1 (app)\n    }\n    if $tid == 1 {   # tid 2 (app)\n      touch m1 write offset 0x1000 length 1\n      m2 = mmap 16K rw private anon\n');
    expect(s).toContain('#   1 mprotect of a mapping several threads use');
    expect(s).toContain('#   1 munmap of a mapping several threads use');
  });

  it('a fork is a fork block at its place in the parent thread, with the child\'s threads inside', () => {
    const s = script([
      line(10, 0, mmapIn(0x4000), 10), line(10, 1, mmapOut(A), 10), line(10, 2, fault(A), 10),
      line(10, 3, 'sched:sched_process_fork: comm=app pid=10 child_comm=app child_pid=20', 10),
      line(20, 4, fault(A, 7), 20), line(20, 5, 'sched:sched_process_fork: comm=app pid=20 child_comm=app child_pid=21', 20),
      line(21, 6, fault(A + 0x1000), 20),
    ]);
    expect(s).toContain('  m1 = mmap 16K rw private anon   # mapped at 0x7f0000000000 by tid 10 at +1us; used by 3 threads\n  touch m1 write offset 0 length 1\n  fork {   # pid 20\n    threads 2 {\n      if $tid == 0 {   # tid 20 (app)\n        touch m1 write offset 0 length 1\n');
  });

  it('a range that is not whole 64 KiB pages is as recorded where pages are 4 KiB, widened or narrowed on bigger ones', () => {
    const s = script([
      line(1, 0, mmapIn(0x30000, 0)), line(1, 1, mmapOut(A)),
      line(1, 2, `syscalls:sys_enter_mprotect: start: ${h(A + 0x1000)}, len: 0x2000, prot: 0x3`),
      line(1, 3, `syscalls:sys_enter_madvise: start: ${h(A + 0x1000)}, len_in: 0x1f000, behavior: 0x4`),
      line(1, 4, `syscalls:sys_enter_munmap: addr: ${h(A + 0x1000)}, len: 0x2000`),
    ]);
    expect(s).toContain('  pagesize = mmap 64K none private anon');
    expect(s).toContain('  let ps = 64K / pages(pagesize)');
    expect(s).toContain('  if ps == 4K { mprotect m1 rw offset 0x1000 length 8K } else { mprotect m1 rw offset 0 length 64K }');
    expect(s).toContain('  if ps == 4K { madvise m1 dontneed offset 0x1000 length 124K } else { madvise m1 dontneed offset 0x10000 length 64K }');
    expect(s).toContain('  if ps == 4K { munmap m1 offset 0x1000 length 8K }\n');
  });

  it('the brk heap: mapped at its largest, a shrink a madvise dontneed; a break that never grew maps nothing', () => {
    const B = 0x1000000;
    const s = script([
      line(1, 0, `syscalls:sys_exit_brk: ${h(B)}`), line(1, 1, `syscalls:sys_exit_brk: ${h(B + 0x21000)}`), line(1, 2, fault(B + 0x20000)),
      line(1, 3, `syscalls:sys_exit_brk: ${h(B + 0x10000)}`), line(1, 4, fault(B + 0x1000)),
    ]);
    expect(s).toContain('  m1 = mmap 132K rw private anon\n  touch m1 write offset 0x20000 length 1\n  madvise m1 dontneed offset 0x10000 length 68K\n  touch m1 write offset 0x1000 length 1\n');
    expect(script([line(1, 0, `syscalls:sys_exit_brk: ${h(B)}`), line(1, 1, fault(B - 0x1000))])).not.toMatch(/^ *m1 = mmap/m);
  });

  it('writes protections and sizes as the language does', () => {
    expect([0, 1, 3, 5, 7, 2, 4].map(protWord)).toEqual(['none', 'r', 'rw', 'rx', 'rwx', 'rw', 'rx']);
    expect([4096, 1 << 20, 0x1e2000, 0x1001].map(sizeWord)).toEqual(['4K', '1M', '1928K', '0x1001']);
  });
});
