import { UsageError } from '../errors.js';
import type { TraceSample } from '../trace/ndjson-reader.js';
import type { ChainFrame } from '../trace/callchain.js';

/**
 * `spfperf script`: one line per event in perf script's layout (tools/perf/builtin-script.c,
 * as captured in shared/perf-captures/script.txt):
 *
 *               mt  4048   207.245733:          1                     faults:
 *               mt  4048 [001]   207.246444: exceptions:page_fault_user: address=0x7f0ba6d52b70 ip=0x7f0ba6d52b70 error_code=0x14
 *
 *   comm        %16s
 *   pid/tid     %5d (tid or pid alone), %5d/%-5d (both)
 *   cpu         [%03d]
 *   time        %5lu.%06lu:   (seconds.microseconds of simulated time)
 *   period      %10lu
 *   event       %*s:          (right-aligned to the longest recorded event name)
 *   trace       the tracepoint's TP_printk: `ip:%lx vma:%lx-%lx address:%lx` (pagefault:*),
 *               `address=0x%lx ip=0x%lx error_code=0x%lx` (exceptions:*)
 *   ip, sym     the sample's ip (a pagefault's caller) and its symbol, as perf's callchain column
 *
 * Defaults as perf's: tracepoints comm,tid,cpu,time,event,trace; software events
 * comm,tid,time,period,event. Pure.
 */

export type ScriptField = 'comm' | 'tid' | 'pid' | 'cpu' | 'time' | 'period' | 'event' | 'trace' | 'ip' | 'sym';
export const SCRIPT_FIELDS: readonly ScriptField[] = ['comm', 'tid', 'pid', 'cpu', 'time', 'period', 'event', 'trace', 'ip', 'sym'];

const TP_DEFAULT: ReadonlySet<ScriptField> = new Set(['comm', 'tid', 'cpu', 'time', 'event', 'trace']);
const SW_DEFAULT: ReadonlySet<ScriptField> = new Set(['comm', 'tid', 'time', 'period', 'event']);

/** Which fields to print for tracepoints and for software events. */
export interface ScriptLayout {
  readonly tp: ReadonlySet<ScriptField>;
  readonly sw: ReadonlySet<ScriptField>;
  /** Width of the event column: the longest event name of the trace. */
  readonly nameWidth: number;
  /** Print a sample's call chain when it has one (perf script does by default: its ip,sym,dso fields). */
  readonly chain: boolean;
}

/**
 * -F: a list of fields (`comm,tid,time,event`) replaces the defaults of every event; a list of
 * +field / -field changes them (`-F +pid,-cpu`), as perf script -F does.
 */
export function scriptLayout(fieldsSpec: string | undefined, eventNames: readonly string[]): ScriptLayout {
  const nameWidth = Math.max(0, ...eventNames.map((n) => n.length));
  if (fieldsSpec === undefined) return { tp: TP_DEFAULT, sw: SW_DEFAULT, nameWidth, chain: true };
  const items = fieldsSpec.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (items.length === 0) throw new UsageError('-F needs at least one field');
  const check = (name: string): ScriptField => {
    if (!(SCRIPT_FIELDS as readonly string[]).includes(name)) throw new UsageError(`-F: unknown field '${name}' (fields: ${SCRIPT_FIELDS.join(', ')})`);
    return name as ScriptField;
  };
  const relative = items.every((x) => x.startsWith('+') || x.startsWith('-'));
  if (!relative && items.some((x) => x.startsWith('+') || x.startsWith('-'))) {
    throw new UsageError('-F: give either a list of fields or a list of +field/-field changes, not both');
  }
  if (!relative) {
    const set = new Set(items.map(check));
    return { tp: set, sw: set, nameWidth, chain: set.has('ip') || set.has('sym') };
  }
  const tp = new Set(TP_DEFAULT);
  const sw = new Set(SW_DEFAULT);
  for (const x of items) {
    const f = check(x.slice(1));
    for (const s of [tp, sw]) {
      if (x[0] === '+') s.add(f);
      else s.delete(f);
    }
  }
  return { tp, sw, nameWidth, chain: sw.has('ip') || sw.has('sym') || (!items.includes('-ip') && !items.includes('-sym')) };
}

const strip0x = (s: string | undefined): string => (s === undefined ? '0' : s.replace(/^0x/, ''));

/** The tracepoint's own fields, as its TP_printk prints them. */
export function traceFields(s: TraceSample): string {
  if (s.vm_start !== undefined) return `ip:${strip0x(s.caller)} vma:${strip0x(s.vm_start)}-${strip0x(s.vm_end)} address:${strip0x(s.address)}`;
  if (s.error_code !== undefined) return `address=0x${strip0x(s.address)} ip=0x${strip0x(s.ip)} error_code=0x${s.error_code.toString(16)}`;
  return callFields(s);
}

/** A syscall argument as the syscall tracepoints print it (`0x%08lx`; an int's -1 as 0xffffffff). */
const arg = (v: string | number | undefined, int = false): string => {
  const n = typeof v === 'string' ? strip0x(v) : ((v ?? 0) < 0 && int ? (v ?? 0) + 2 ** 32 : (v ?? 0)).toString(16);
  return `0x${n.padStart(8, '0')}`;
};

/**
 * The address-space calls' fields as their TP_printk prints them: the syscalls' `name: 0x%08lx`
 * list (include/trace/syscall.h), sys_exit's `0x%lx`, and sched's (include/trace/events/sched.h).
 */
function callFields(s: TraceSample): string {
  switch (s.event) {
    case 'syscalls:sys_enter_mmap':
      return `addr: ${arg(s.addr)}, len: ${arg(s.len)}, prot: ${arg(s.prot)}, flags: ${arg(s.flags)}, fd: ${arg(s.fd, true)}, off: ${arg(s.off)}`;
    case 'syscalls:sys_exit_mmap':
      return `0x${strip0x(String(s.ret))}`;
    case 'syscalls:sys_enter_munmap':
      return `addr: ${arg(s.addr)}, len: ${arg(s.len)}`;
    case 'syscalls:sys_enter_mprotect':
      return `start: ${arg(s.start)}, len: ${arg(s.len)}, prot: ${arg(s.prot)}`;
    case 'syscalls:sys_enter_madvise':
      return `start: ${arg(s.start)}, len_in: ${arg(s.len_in)}, behavior: ${arg(s.behavior)}`;
    case 'sched:sched_process_fork':
      return `comm=${s.comm} pid=${s.parent_pid} child_comm=${s.child_comm} child_pid=${s.child_pid}`;
    case 'sched:sched_process_exit':
      return `comm=${s.comm} pid=${s.tid} prio=${s.prio} group_dead=${s.group_dead}`;
    default:
      return '';
  }
}

/** seconds.microseconds of a time in ns (perf's "%5lu.%06lu"). */
export function scriptTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  return `${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}`;
}

/**
 * A sample with a call chain, as perf script prints it (builtin-script.c, perf 6.x): the sample
 * line, with the comm unpadded (`%s `, perf's way when it prints a chain) and its blank before the
 * chain kept, then one line per frame, `\t%16lx %s (%s)`: address, symbol (+offset), object;
 * `[kernel.kallsyms]` for kernel frames; a blank line after the sample.
 *
 *   mt   949  3169.914631:     200000 cpu-clock: 
 *   \tffffffff8177d51a elf_load+0x28a ([kernel.kallsyms])
 *   \t    7f3666af2ad7 [unknown] ([unknown])
 */
export function formatScriptChain(s: TraceSample, chain: readonly ChainFrame[], l: ScriptLayout): string {
  const head = formatScriptLine(s, l, true);
  let out = `${head}\n`;
  for (const f of chain) out += `\t${f.ip.replace(/^0x/, '').padStart(16)} ${f.sym} (${f.dso ?? KALLSYMS})\n`;
  return `${out}\n`;
}

const KALLSYMS = '[kernel.kallsyms]';

/** One event as perf script prints it (without the newline; trailing blanks trimmed, but for a chain's sample line). */
export function formatScriptLine(s: TraceSample, l: ScriptLayout, chain = false): string {
  const tracepoint = s.event.includes(':');
  const f = tracepoint ? l.tp : l.sw;
  let out = '';
  if (f.has('comm')) out += chain ? `${s.comm} ` : `${s.comm.padStart(16)} `;
  if (f.has('pid') && f.has('tid')) out += `${String(s.pid).padStart(5)}/${String(s.tid).padEnd(5)} `;
  else if (f.has('pid')) out += `${String(s.pid).padStart(5)} `;
  else if (f.has('tid')) out += `${String(s.tid).padStart(5)} `;
  if (f.has('cpu')) out += `[${String(s.cpu).padStart(3, '0')}] `;
  if (f.has('time')) out += `${scriptTime(s.ts)}: `;
  if (f.has('period')) out += `${String(s.period ?? 1).padStart(10)} `;
  if (f.has('event')) out += `${s.event.padStart(l.nameWidth)}: `;
  if (chain) return out;
  if (f.has('trace') && tracepoint) out += traceFields(s);
  const ip = s.caller ?? s.ip;
  if ((f.has('ip') || f.has('sym')) && ip !== undefined) {
    if (f.has('ip')) out += ` ${strip0x(ip).padStart(16)}`;
    if (f.has('sym')) out += s.sym !== undefined ? ` ${s.sym} ([kernel.kallsyms])` : ' [unknown]';
  }
  return out.trimEnd();
}
