import { describe, expect, it } from 'vitest';
import { AddressSpace, CLUSTER_GAP, STACK_FLOOR, type Op, type Touch } from '../../src/import/address-space.js';
import { parsePerfScriptLine, PerfLineError } from '../../src/import/perf-script.js';

const h = (n: number): string => `0x${n.toString(16)}`;
let t = 0;
/** A perf script line of tid (and pid, if given) at the next microsecond. */
function line(tid: number, rest: string, pid?: number): string {
  t++;
  return `  app ${pid !== undefined ? `${pid}/` : ''}${tid} [000] 100.${String(t).padStart(6, '0')}: ${rest}`;
}
const mmapIn = (len: number, prot = 3, flags = 0x22, fd = 0xffffffff, off = 0, addr = 0): string =>
  `syscalls:sys_enter_mmap: addr: ${h(addr)}, len: ${h(len)}, prot: ${h(prot)}, flags: ${h(flags)}, fd: ${h(fd)}, off: ${h(off)}`;
const mmapOut = (a: number | string): string => `syscalls:sys_exit_mmap: ${typeof a === 'string' ? a : h(a)}`;
const fault = (a: number, code = 6): string => `exceptions:page_fault_user: address=${h(a)} ip=0x1 error_code=${h(code)}`;

function build(lines: string[]): AddressSpace {
  const as = new AddressSpace();
  for (const [i, l] of lines.entries()) {
    const e = parsePerfScriptLine(l, i + 1);
    if (e instanceof PerfLineError) throw new Error(`${l}: ${e.message}`);
    as.add(e);
  }
  as.finish();
  return as;
}
const ops = (as: AddressSpace, tid: number): (Op | Touch)[] => as.timeline(tid);

describe('AddressSpace', () => {
  it('pairs sys_enter_mmap with the sys_exit_mmap of the same tid, and attributes faults to the mapping', () => {
    const A = 0x7f0000000000;
    const B = 0x7f0000100000;
    const as = build([line(1, mmapIn(0x2000)), line(2, mmapIn(0x10000, 1, 0x02, 3)), line(1, mmapOut(A)), line(2, mmapOut(B)), line(1, fault(A + 0x1234)), line(2, fault(B + 0x5000, 4))]);
    expect(as.processes.size).toBe(1); // no pids: one process whose threads are its tids
    expect(as.mappings.map((m) => [m.start, m.len, m.kind, m.creator])).toEqual([[A, 0x2000, 'anon', 1], [B, 0x10000, 'file', 2]]);
    const f1 = ops(as, 1)[1];
    expect(f1).toMatchObject({ k: 'touch', addr: A + 0x1000, write: true });
    expect(f1.k === 'touch' && f1.m!.start).toBe(A);
    expect(ops(as, 2)[1]).toMatchObject({ k: 'touch', write: false, fetch: false });
    expect(as.mappings[0].faults + as.mappings[1].faults).toBe(2);
  });

  it('a MAP_FIXED mapping over another unmaps that part of it (ld.so\'s segments), same file name for the same fd', () => {
    const R = 0x7f0000000000;
    const as = build([
      line(1, mmapIn(0x10000, 1, 0x802, 3)), line(1, mmapOut(R)),
      line(1, mmapIn(0x4000, 5, 0x812, 3, 0x4000, R + 0x4000)), line(1, mmapOut(R + 0x4000)),
      line(1, fault(R + 0x5000, 0x14)), line(1, fault(R + 0x9000, 4)),
    ]);
    const [res, seg] = as.mappings;
    expect(seg.file).toBe(res.file);
    const o = ops(as, 1);
    expect(o.map((x) => x.k)).toEqual(['mmap', 'munmap', 'mmap', 'touch', 'touch']);
    expect(o[1]).toMatchObject({ k: 'munmap', off: 0x4000, len: 0x4000 });
    expect(o[3].k === 'touch' && o[3].m).toBe(seg);
    expect(o[4].k === 'touch' && o[4].m).toBe(res);
  });

  it('munmap and mprotect split the mapping; a fault its protection refuses is dropped, not replayed', () => {
    const A = 0x7f0000000000;
    const as = build([
      line(1, mmapIn(0x8000)), line(1, mmapOut(A)),
      line(1, `syscalls:sys_enter_mprotect: start: ${h(A)}, len: 0x4000, prot: 0x1`),
      line(1, fault(A + 0x1000, 6)), // a write to the read-only half: SIGSEGV
      line(1, fault(A + 0x5000, 6)),
      line(1, `syscalls:sys_enter_munmap: addr: ${h(A + 0x6000)}, len: 0x2000`),
    ]);
    expect(as.summary.dropped.get('fault the recorded protection refuses (a SIGSEGV the program handled)')).toBe(1);
    expect(ops(as, 1).map((x) => x.k)).toEqual(['mmap', 'mprotect', 'touch', 'munmap']);
    expect(ops(as, 1)[1]).toMatchObject({ off: 0, len: 0x4000, prot: 1, before: 3 });
    expect(ops(as, 1)[3]).toMatchObject({ off: 0x6000, len: 0x2000 });
  });

  it('madvise: the advice the language has, others dropped with the reason', () => {
    const A = 0x7f0000000000;
    const as = build([line(1, mmapIn(0x8000)), line(1, mmapOut(A)), line(1, `syscalls:sys_enter_madvise: start: ${h(A)}, len_in: 0x8000, behavior: 0x4`), line(1, `syscalls:sys_enter_madvise: start: ${h(A)}, len_in: 0x8000, behavior: 0xa`)]);
    expect(ops(as, 1)[1]).toMatchObject({ k: 'madvise', advice: 'dontneed', off: 0, len: 0x8000 });
    expect(as.summary.dropped.get('madvise advice 10 (not in the workload language)')).toBe(1);
  });

  it('synthesizes mappings for faults no recorded mmap covers: a stack at the top, images by cluster', () => {
    const S = STACK_FLOOR + 0x7ff0000;
    const I = 0x560000000000;
    const as = build([line(1, fault(S + 0x1ff8)), line(1, fault(S)), line(1, fault(I, 0x14)), line(1, fault(I + 0x3000, 6)), line(1, fault(I + 0x3000 + CLUSTER_GAP + 0x1000, 4)), line(1, fault(I + 0x100000000, 6))]);
    const synth = as.mappings.filter((m) => m.synth !== null).map((m) => [m.synth, m.start, m.len, m.protUnion, m.faults]);
    expect(synth).toEqual([
      ['image', I, 0x4000, 7, 2],
      ['image', I + 0x4000 + CLUSTER_GAP, 0x1000, 1, 1],
      ['heap', I + 0x100000000, 0x1000, 3, 1], // written, never executed: anonymous (a brk heap)
      ['stack', S, 0x2000, 3, 2],
    ]);
    expect(ops(as, 1).every((o) => o.k !== 'touch' || o.m !== null)).toBe(true);
  });

  it('with pids: a forked child is its own process with a copy of the parent\'s mappings', () => {
    const A = 0x7f0000000000;
    const I = 0x560000000000;
    const as = build([
      line(10, fault(I), 10),
      line(10, mmapIn(0x4000), 10), line(10, mmapOut(A), 10),
      line(10, fault(A), 10),
      line(10, 'sched:sched_process_fork: comm=app pid=10 child_comm=app child_pid=20', 10),
      line(10, 'sched:sched_process_fork: comm=app pid=10 child_comm=app child_pid=11', 10),
      line(11, fault(A + 0x1000), 10),
      line(20, fault(A, 7), 20), // COW in the child
      line(20, fault(I, 4), 20),
      line(20, 'sched:sched_process_exit: comm=app pid=20 prio=120 group_dead=true', 20),
    ]);
    expect([...as.processes.keys()]).toEqual([10, 20]);
    expect(as.processes.get(20)!.parent).toBe(10);
    expect(as.processes.get(10)!.tids).toEqual([10, 11]);
    expect(ops(as, 10).map((o) => o.k)).toEqual(['touch', 'mmap', 'touch', 'fork']);
    const [m] = as.mappings.filter((x) => x.synth === null);
    expect([...m.users].sort()).toEqual([10, 11, 20]);
    // The child's fault on the parent's binary is on the parent's synthesized image.
    expect(as.mappings.filter((x) => x.synth !== null).length).toBe(1);
    expect(as.summary.dropped.size).toBe(0);
  });

  it('counts what it cannot use: unpaired mmaps, failed mmaps, other tracepoints', () => {
    const as = build([line(1, mmapOut(0x1000)), line(1, mmapIn(0x1000)), line(1, mmapOut('0xfffffffffffffff4')), line(1, 'syscalls:sys_enter_brk: brk: 0x00000000'), line(1, mmapIn(0x1000))]);
    expect(Object.fromEntries(as.summary.dropped)).toEqual({
      'sys_exit_mmap without its sys_enter_mmap': 1,
      'mmap that failed': 1,
      'syscalls:sys_enter_brk (not imported)': 1,
      'sys_enter_mmap without its sys_exit_mmap': 1,
    });
  });

  it('sys_exit_brk: the heap is one region as long as the largest break; a shrink zaps the pages it gave back', () => {
    const B = 0x1000000;
    const brk = (a: number): string => `syscalls:sys_exit_brk: ${h(a)}`;
    const as = build([line(1, brk(B)), line(1, brk(B + 0x21000)), line(2, fault(B + 0x20008)), line(1, brk(B + 0x10000)), line(1, brk(B + 0x30000)), line(2, fault(B + 0x2f000)), line(1, fault(B + 0x20000))]);
    const [heap] = as.mappings;
    expect([heap.start, heap.len, heap.kind, heap.synth, heap.faults]).toEqual([B, 0x30000, 'anon', null, 3]);
    expect(as.timeline(1).map((o) => o.k)).toEqual(['mmap', 'madvise', 'touch']);
    expect(as.timeline(1)[1]).toMatchObject({ advice: 'dontneed', off: 0x10000, len: 0x11000 });
    expect(as.mappings.filter((m) => m.synth !== null)).toEqual([]);
  });
});
