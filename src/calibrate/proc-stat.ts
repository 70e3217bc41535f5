/**
 * How busy the machine was while real programs ran: the `cpu` line of /proc/stat before and
 * after, and the CPU time of the programs themselves. Pure: text in, shares out; the reading of
 * the file is `readProcStat()` at the bottom.
 *
 * /proc/stat's first line sums every CPU's time in USER_HZ ticks (1/100 s on every arch
 * spfperf models): user nice system idle iowait irq softirq steal guest guest_nice, where guest
 * and guest_nice are already inside user and nice (Documentation/filesystems/proc.rst).
 */
import { readFileSync } from 'node:fs';

/** The whole machine's CPU time so far, in ns. */
export interface CpuTimes {
  /** Every state but guest/guest_nice (counted in user/nice already). */
  readonly totalNs: number;
  /** idle + iowait. */
  readonly idleNs: number;
  /** Time the hypervisor gave this guest's vCPUs to someone else (steal). */
  readonly stealNs: number;
}

/** /proc/stat's USER_HZ: its ticks are hundredths of a second. */
const TICK_NS = 10_000_000;

/** The `cpu` line of /proc/stat's text, or null when there is none. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (line === undefined) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return {
    totalNs: (user + nice + system + idle + iowait + irq + softirq + steal) * TICK_NS,
    idleNs: (idle + iowait) * TICK_NS,
    stealNs: steal * TICK_NS,
  };
}

/** What the CPUs did between two readings, as shares of all their time. */
export interface MachineLoad {
  /** Idle (or waiting for I/O). */
  readonly idle: number;
  /** Busy with the programs measured (their own CPU time, as perf or getrusage counted it). */
  readonly ours: number;
  /** Busy with anything else, or stolen by the hypervisor: what disturbs a measurement. */
  readonly others: number;
  /** The wall time the readings span (all CPUs' time / the CPUs), ns. */
  readonly spanNs: number;
}

/**
 * The shares between `a` and `b`, given the CPU time `oursNs` the measured programs used in
 * between. Null when the readings span less than a few ticks (no share can be told).
 */
export function machineLoad(a: CpuTimes, b: CpuTimes, oursNs: number, ncpus: number): MachineLoad | null {
  const total = b.totalNs - a.totalNs;
  if (total < 4 * TICK_NS) return null;
  const idle = Math.max(0, b.idleNs - a.idleNs) / total;
  const ours = Math.min(1 - idle, oursNs / total);
  return { idle, ours, others: Math.max(0, 1 - idle - ours), spanNs: total / Math.max(1, ncpus) };
}

/** Sum of several spans' loads, weighted by their length. */
export function sumLoads(loads: readonly (MachineLoad | null)[]): MachineLoad | null {
  const ls = loads.filter((l): l is MachineLoad => l !== null);
  const span = ls.reduce((s, l) => s + l.spanNs, 0);
  if (span === 0) return null;
  const w = (f: (l: MachineLoad) => number): number => ls.reduce((s, l) => s + f(l) * l.spanNs, 0) / span;
  return { idle: w((l) => l.idle), ours: w((l) => l.ours), others: w((l) => l.others), spanNs: span };
}

/** A share of the others above this makes real timings unreliable: the commands warn. */
export const BUSY_SHARE = 0.1;

/** One line for the reader: "idle 48 %, the programs measured 51 %, anything else 1 %". */
export function describeLoad(l: MachineLoad): string {
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  return `idle ${pct(l.idle)}, the programs measured ${pct(l.ours)}, anything else ${pct(l.others)} of the CPUs' time`;
}

/**
 * The CPU time of this process's waited-for children so far, in ns (cutime + cstime of
 * /proc/self/stat, USER_HZ ticks): every program it ran and what they ran in turn (perf and its
 * twin), or null where there is no /proc.
 */
export function parseChildrenCpuNs(text: string): number | null {
  // pid (comm) state ...: comm may hold spaces and parentheses; the fields follow the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/);
  const cutime = Number(f[13]);
  const cstime = Number(f[14]);
  return Number.isFinite(cutime) && Number.isFinite(cstime) ? (cutime + cstime) * TICK_NS : null;
}

export function readChildrenCpuNs(path = '/proc/self/stat'): number | null {
  try {
    return parseChildrenCpuNs(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** This machine's /proc/stat now, or null where there is none (not Linux). */
export function readProcStat(path = '/proc/stat'): CpuTimes | null {
  try {
    return parseProcStat(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}
