/**
 * A streaming reader of `perf script` text over a recording of the address-space tracepoints
 * (what `spfperf import` reads; docs/import.md):
 *
 *   default fields (no pid):
 *              app 18812 [001]  1949.858221:     syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, ...
 *   -F comm,pid,tid,cpu,time,event,trace:
 *           forker  2501/2504  [001]  3445.148007:   syscalls:sys_enter_munmap: addr: 0x7f0d816af000, len: 0x00100000
 *
 * sys_exit_brk (the new break) is read too, when the recording has it; sys_enter_brk is not needed.
 * The fields after the event name are each tracepoint's TP_printk text: the syscall tracepoints'
 * "name: 0x%08lx" list (include/trace/syscall.h's generated print_fmt), exceptions:page_fault_user's
 * "address=%p ip=%p error_code=0x%lx" (arch/x86/include/asm/trace/exceptions.h), and sched's
 * "comm=%s pid=%d child_comm=%s child_pid=%d" and "comm=%s pid=%d prio=%d[ group_dead=%s]"
 * (include/trace/events/sched.h; group_dead is in newer kernels only).
 *
 * The input is read a line at a time (readline), so memory does not grow with its length.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';

/** What every line has: who, where and when. */
export interface PerfLineHead {
  /** 1-based line number in the input. */
  readonly line: number;
  readonly comm: string;
  /** The thread group id, when perf script printed it (`-F pid,tid`), else null. */
  readonly pid: number | null;
  readonly tid: number;
  readonly cpu: number;
  /** Timestamp in nanoseconds (perf script prints seconds with microseconds). */
  readonly ns: number;
}

/** One parsed event: the head and what the tracepoint says. */
export type PerfEvent = PerfLineHead &
  (
    | { readonly k: 'fault'; readonly address: number; readonly ip: number; readonly errorCode: number }
    | { readonly k: 'mmap-enter'; readonly addr: number; readonly len: number; readonly prot: number; readonly flags: number; readonly fd: number; readonly off: number }
    | { readonly k: 'mmap-exit'; readonly ret: number }
    | { readonly k: 'brk-exit'; readonly ret: number }
    | { readonly k: 'munmap'; readonly addr: number; readonly len: number }
    | { readonly k: 'mprotect'; readonly start: number; readonly len: number; readonly prot: number }
    | { readonly k: 'madvise'; readonly start: number; readonly len: number; readonly behavior: number }
    | { readonly k: 'fork'; readonly parentPid: number; readonly childPid: number; readonly childComm: string }
    | { readonly k: 'exit'; readonly exitPid: number; readonly groupDead: boolean | null }
    /** A tracepoint import does not use (kept for the summary's count of dropped events). */
    | { readonly k: 'other'; readonly event: string }
  );

/** The tracepoint each kind of event comes from (the summary counts events by these names). */
export const TRACEPOINT: Readonly<Record<Exclude<PerfEvent['k'], 'other'>, string>> = {
  fault: 'exceptions:page_fault_user',
  'mmap-enter': 'syscalls:sys_enter_mmap',
  'mmap-exit': 'syscalls:sys_exit_mmap',
  munmap: 'syscalls:sys_enter_munmap',
  mprotect: 'syscalls:sys_enter_mprotect',
  madvise: 'syscalls:sys_enter_madvise',
  fork: 'sched:sched_process_fork',
  'brk-exit': 'syscalls:sys_exit_brk',
  exit: 'sched:sched_process_exit',
};

/** x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h: X86_PF_*). */
export const X86_PF_PROT = 1 << 0;
export const X86_PF_WRITE = 1 << 1;
export const X86_PF_USER = 1 << 2;
export const X86_PF_INSTR = 1 << 4;

// After the comm (which may hold spaces): pid/tid or tid, [cpu], secs.usecs:, event:, the rest.
// Not anchored at the start: the comm is what comes before the first place this matches (an
// anchored lazy `^\s*(.*?)\s+` backtracks over perf's padding, ~25 us a line).
const HEAD = /\s(?:(\d+)\/)?(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{1,9}):\s+([A-Za-z0-9_]+:[A-Za-z0-9_]+):(?: (.*))?$/;
const HEX = '0x[0-9a-fA-F]+';
const FAULT = new RegExp(`^address=(${HEX}) ip=(${HEX}) error_code=(${HEX})$`);
const EXIT_MMAP = new RegExp(`^(${HEX})$`);
const FORK = /^comm=(.*) pid=(\d+) child_comm=(.*) child_pid=(\d+)$/;
const EXIT = /^comm=(.*) pid=(\d+) prio=(-?\d+)(?: group_dead=(true|false))?$/;

/** The `name: 0x...` list of a syscall tracepoint, with the names it must have in this order. */
const SYSCALL_ARGS: Readonly<Record<string, readonly string[]>> = {
  'syscalls:sys_enter_mmap': ['addr', 'len', 'prot', 'flags', 'fd', 'off'],
  'syscalls:sys_enter_munmap': ['addr', 'len'],
  'syscalls:sys_enter_mprotect': ['start', 'len', 'prot'],
  'syscalls:sys_enter_madvise': ['start', 'len_in', 'behavior'],
};

/** A hex number of up to 64 bits; one with the top bit set is negative (a syscall's -errno). */
export function hex64(s: string): number {
  if (s.length <= 15) return parseInt(s, 16);
  const v = BigInt(s);
  return v >= 1n << 63n ? Number(v - (1n << 64n)) : Number(v);
}

/** A 32-bit int printed as hex (the fd of sys_enter_mmap: 0xffffffff is -1). */
function int32(s: string): number {
  const v = hex64(s);
  return v >= 0x80000000 && v <= 0xffffffff ? v - 0x100000000 : v;
}

/** Why a line is not what import reads: the message and the 1-based column it points at. */
export class PerfLineError {
  constructor(
    readonly col: number,
    readonly message: string,
  ) {}
}

/**
 * Parse one line of perf script text. Returns the event, or a PerfLineError saying what is
 * wrong and where. Never throws.
 */
export function parsePerfScriptLine(text: string, line: number): PerfEvent | PerfLineError {
  const m = HEAD.exec(text);
  if (m === null) return new PerfLineError(1, "not a perf script line: expected 'COMM [PID/]TID [CPU] SECS.USECS: EVENT: FIELDS'");
  const comm = text.slice(0, m.index).trim();
  if (comm === '') return new PerfLineError(1, 'not a perf script line: no comm before the tid');
  const pid = m[1] !== undefined ? Number(m[1]) : null;
  const tid = Number(m[2]);
  const cpu = Number(m[3]);
  const ns = Number(m[4]) * 1e9 + Number(m[5].padEnd(9, '0'));
  // Object literals with every field written out: `{ ...head, ... }` costs ~10 us a line.
  const event = m[6];
  const rest = m[7] ?? '';
  const col = text.length - rest.length + 1;
  const bad = (what: string): PerfLineError => new PerfLineError(col, `${event}: expected ${what}, found '${rest.length > 60 ? rest.slice(0, 57) + '...' : rest}'`);
  const args = SYSCALL_ARGS[event];
  if (args !== undefined) {
    const v = syscallArgs(rest.trim(), args);
    if (v === null) return bad(`'${args.map((a) => `${a}: 0x...`).join(', ')}'`);
    switch (event) {
      case 'syscalls:sys_enter_mmap':
        return { line, comm, pid, tid, cpu, ns, k: 'mmap-enter', addr: hex64(v[0]), len: hex64(v[1]), prot: hex64(v[2]), flags: hex64(v[3]), fd: int32(v[4]), off: hex64(v[5]) };
      case 'syscalls:sys_enter_munmap':
        return { line, comm, pid, tid, cpu, ns, k: 'munmap', addr: hex64(v[0]), len: hex64(v[1]) };
      case 'syscalls:sys_enter_mprotect':
        return { line, comm, pid, tid, cpu, ns, k: 'mprotect', start: hex64(v[0]), len: hex64(v[1]), prot: hex64(v[2]) };
      default:
        return { line, comm, pid, tid, cpu, ns, k: 'madvise', start: hex64(v[0]), len: hex64(v[1]), behavior: hex64(v[2]) };
    }
  }
  switch (event) {
    case 'exceptions:page_fault_user': {
      const f = FAULT.exec(rest.trim());
      if (f === null) return bad("'address=0x... ip=0x... error_code=0x...'");
      return { line, comm, pid, tid, cpu, ns, k: 'fault', address: hex64(f[1]), ip: hex64(f[2]), errorCode: hex64(f[3]) };
    }
    case 'syscalls:sys_exit_brk': {
      const f = EXIT_MMAP.exec(rest.trim());
      if (f === null) return bad("the returned break '0x...'");
      return { line, comm, pid, tid, cpu, ns, k: 'brk-exit', ret: hex64(f[1]) };
    }
    case 'syscalls:sys_exit_mmap': {
      const f = EXIT_MMAP.exec(rest.trim());
      if (f === null) return bad("the returned address '0x...'");
      return { line, comm, pid, tid, cpu, ns, k: 'mmap-exit', ret: hex64(f[1]) };
    }
    case 'sched:sched_process_fork': {
      const f = FORK.exec(rest.trim());
      if (f === null) return bad("'comm=... pid=N child_comm=... child_pid=N'");
      return { line, comm, pid, tid, cpu, ns, k: 'fork', parentPid: Number(f[2]), childComm: f[3], childPid: Number(f[4]) };
    }
    case 'sched:sched_process_exit': {
      const f = EXIT.exec(rest.trim());
      if (f === null) return bad("'comm=... pid=N prio=N [group_dead=true|false]'");
      return { line, comm, pid, tid, cpu, ns, k: 'exit', exitPid: Number(f[2]), groupDead: f[4] === undefined ? null : f[4] === 'true' };
    }
    default:
      return { line, comm, pid, tid, cpu, ns, k: 'other', event };
  }
}

/** `a: 0x1, b: 0x2` with exactly these names, or null. */
function syscallArgs(rest: string, names: readonly string[]): string[] | null {
  const parts = rest.split(', ');
  if (parts.length !== names.length) return null;
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const p = parts[i];
    const pre = `${names[i]}: `;
    if (!p.startsWith(pre)) return null;
    const v = p.slice(pre.length);
    if (!/^0x[0-9a-fA-F]{1,16}$/.test(v)) return null;
    out.push(v);
  }
  return out;
}

/** How an input of import is read (perf script text here, an spfperf trace in ndjson-trace.ts). */
export interface ReadOptions {
  /** The input's name for messages (a path, or `<stdin>`). */
  readonly name: string;
  /** Skip what cannot be read (counted: lines that are not perf script text, trace samples without the fields import needs) instead of failing on the first. */
  readonly skipBad?: boolean;
}

/** What reading the whole input found besides its events. */
export interface ReadStats {
  lines: number;
  skipped: number;
  /** The first skipped line's `file:line[:col]: message`, for the summary. */
  firstSkipped: string | null;
}

/**
 * Read perf script text line by line and hand each event to `onEvent`. A line that is not
 * perf script text is a UsageError `file:line:col: message` (exit 2), or with skipBad a count.
 * Blank lines and `#` comment lines (perf script's header with --header) are ignored.
 */
export async function readPerfScript(input: Readable, o: ReadOptions, onEvent: (e: PerfEvent) => void): Promise<ReadStats> {
  const st: ReadStats = { lines: 0, skipped: 0, firstSkipped: null };
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const text of rl) {
    const line = ++st.lines;
    if (text.trim() === '' || text.trimStart().startsWith('#')) continue;
    const e = parsePerfScriptLine(text, line);
    if (e instanceof PerfLineError) {
      const msg = `${o.name}:${line}:${e.col}: ${e.message}`;
      if (!o.skipBad) {
        rl.close();
        input.destroy();
        throw new UsageError(msg, 2);
      }
      st.skipped++;
      st.firstSkipped ??= msg;
      continue;
    }
    onEvent(e);
  }
  return st;
}
