/**
 * spfperf's own NDJSON trace (`spfperf record`, docs/trace-format.md) as import's input: the
 * samples of the address-space calls (`record -e 'syscalls:*,sched:*'`) and of
 * exceptions:page_fault_user become the same events as perf script's lines of those tracepoints
 * (./perf-script.ts), for the same address-space model and generator. Other samples (faults,
 * pagefault:*, cpu-clock) are events import does not use: counted in the header's dropped list.
 *
 * The trace is read by the trace reader (src/trace/ndjson-reader.ts), a chunk at a time.
 */
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { readTrace, type TraceSample } from '../trace/ndjson-reader.js';
import { hex64, type PerfEvent, type ReadOptions, type ReadStats } from './perf-script.js';

/** Does this start of an input look like an spfperf trace (a JSON object), not perf script text? */
export function looksLikeNdjson(head: string): boolean {
  return /^\uFEFF?\s*\{/.test(head);
}

/**
 * The event a sample is to import, or a string saying which field it lacks. A hex string field
 * is read as perf script's hex (-errno as the kernel's unsigned long).
 */
export function perfEventOfSample(s: TraceSample, line: number): PerfEvent | string {
  const head = { line, comm: s.comm, pid: s.pid, tid: s.tid, cpu: s.cpu, ns: s.ts };
  const need = (names: readonly (keyof TraceSample)[]): string | null => {
    const missing = names.filter((n) => s[n] === undefined);
    return missing.length === 0 ? null : `${s.event} sample without ${missing.map((m) => `'${m}'`).join(', ')}`;
  };
  const h = (v: string | undefined): number => hex64(v!);
  let miss: string | null;
  switch (s.event) {
    case 'exceptions:page_fault_user':
      if ((miss = need(['address', 'ip', 'error_code'])) !== null) return miss;
      return { ...head, k: 'fault', address: h(s.address), ip: h(s.ip), errorCode: s.error_code! };
    case 'syscalls:sys_enter_mmap':
      if ((miss = need(['addr', 'len', 'prot', 'flags', 'fd', 'off'])) !== null) return miss;
      return { ...head, k: 'mmap-enter', addr: h(s.addr), len: h(s.len), prot: s.prot!, flags: s.flags!, fd: s.fd!, off: s.off! };
    case 'syscalls:sys_exit_mmap':
      if (typeof s.ret !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(s.ret)) return `${s.event} sample without a 'ret' of hex digits`;
      return { ...head, k: 'mmap-exit', ret: hex64(s.ret) };
    case 'syscalls:sys_enter_munmap':
      if ((miss = need(['addr', 'len'])) !== null) return miss;
      return { ...head, k: 'munmap', addr: h(s.addr), len: h(s.len) };
    case 'syscalls:sys_enter_mprotect':
      if ((miss = need(['start', 'len', 'prot'])) !== null) return miss;
      return { ...head, k: 'mprotect', start: h(s.start), len: h(s.len), prot: s.prot! };
    case 'syscalls:sys_enter_madvise':
      if ((miss = need(['start', 'len_in', 'behavior'])) !== null) return miss;
      return { ...head, k: 'madvise', start: h(s.start), len: h(s.len_in), behavior: s.behavior! };
    case 'sched:sched_process_fork':
      if ((miss = need(['parent_pid', 'child_pid'])) !== null) return miss;
      return { ...head, k: 'fork', parentPid: s.parent_pid!, childPid: s.child_pid!, childComm: s.child_comm ?? s.comm };
    case 'sched:sched_process_exit':
      return { ...head, k: 'exit', exitPid: s.tid, groupDead: s.group_dead ?? null };
    default:
      return { ...head, k: 'other', event: s.event };
  }
}

/**
 * Read an spfperf trace and hand each sample's event to `onEvent`. A damaged line, or a sample
 * of an imported event without its fields, is a UsageError `file:line: message` (exit 2), or
 * with skipBad a count. A trace without an spfperf header is the trace reader's error.
 */
export async function readNdjsonTrace(input: Readable, o: ReadOptions, onEvent: (e: PerfEvent) => void): Promise<ReadStats> {
  const st: ReadStats = { lines: 0, skipped: 0, firstSkipped: null };
  let bad: UsageError | null = null;
  let own = 0;
  const skip = (msg: string): void => {
    if (bad !== null) return;
    if (!o.skipBad) bad = new UsageError(msg, 2);
    else st.firstSkipped ??= msg;
  };
  const r = await readTrace(
    input,
    {
      sample: (s, line) => {
        if (bad !== null) return;
        const e = perfEventOfSample(s, line);
        if (typeof e !== 'string') return onEvent(e);
        own++;
        skip(`${o.name}:${line}: ${e}`);
      },
    },
    // The reader's own skipped lines (`spfperf: FILE:LINE: skipped: why`; it counts them all).
    { name: o.name, warn: (msg) => (msg.includes(': skipped: ') ? skip(msg.replace(/^spfperf: /, '').replace(': skipped: ', ': ').trimEnd()) : undefined) },
  );
  if (bad !== null) throw bad;
  st.lines = r.lines;
  st.skipped = r.skipped + own;
  return st;
}
