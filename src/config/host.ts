/**
 * `--machine host`: a machine profile of the Linux machine spfperf runs on, read from /sys and
 * /proc. `probeHost()` is pure: it takes the files' text through a `HostFiles` reader, so tests
 * feed it fixture trees (fixtures/host/). `fsHostFiles()` / `readHost()` at the bottom are this
 * file's only I/O: they read the real files (or a copy of them under another root). The presets
 * the host borrows from (a guest's costs, storage estimates) come in as `HostPresets`, so this
 * file imports nothing of machine.ts at run time; machine.ts's `hostInfo()` probes once per
 * process with its own presets, and its `getMachine('host')` returns that machine.
 *
 * What it reads:
 *   /sys/devices/system/cpu/online                          the online CPUs
 *   /sys/devices/system/cpu/cpuN/topology/physical_package_id, core_id, thread_siblings_list
 *                                                           sockets, cores, SMT threads
 *   /sys/devices/system/node/node*                          NUMA nodes (none: one node)
 *   /proc/meminfo                                           MemTotal
 *   /sys/kernel/mm/transparent_hugepage/enabled             the THP mode (absent: no THP)
 *   /proc/cpuinfo                                           arch, model, guest or bare metal
 *   /proc/sys/kernel/osrelease                              the kernel version
 *   /dev/kmsg, /sys/hypervisor/type                         which hypervisor, when readable
 *                                                           (src/config/host-guest.ts)
 *
 * What it does not know: cache-line latencies (the arch profile's defaults stand) and storage
 * (an estimate taken from a preset's, declared as one in `HostInfo.storage`).
 */
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { TopologySpec } from '../engine/topology.js';
import type { ArchCosts } from './arch.js';
import { ConfigError } from '../errors.js';
import type { Machine } from './machine.js';
import { compareReleases, kernelRelease, type KernelRelease } from './era.js';
import { DESIGNS } from '../mm/spf/index.js';
import { guestOf, KMSG } from './host-guest.js';

/** The files a probe reads: their text, or undefined when one does not exist. */
export interface HostFiles {
  /** The whole text of the file at `path` (an absolute Linux path), or undefined. */
  read(path: string): string | undefined;
  /** The names in directory `dir`, or [] when it does not exist. */
  list(dir: string): string[];
}

export type ThpMode = 'always' | 'madvise' | 'never' | 'unavailable';

/** What the probe found, beyond the `Machine` it builds (for `list --machines` and `calibrate`). */
export interface HostInfo {
  readonly machine: Machine;
  /** Online CPUs. */
  readonly ncpus: number;
  /** The CPU's model name as /proc/cpuinfo gives it (x86 `model name`, POWER `cpu`), if any. */
  readonly cpuModel?: string;
  readonly numaNodes: number;
  /** The kernel release, /proc/sys/kernel/osrelease (e.g. '6.18.44-fc-v1272'). */
  readonly kernelRelease: string;
  /** Its release (e.g. '6.18', '2.6.33'), for the era keys. */
  readonly kernelVersion: string;
  /**
   * The page-fault design that kernel has: the newest design of the registry merged in mainline
   * at or before its release (per-VMA locks from 6.4), else the classic 'none'.
   */
  readonly designOfKernel: string;
  readonly thp: ThpMode;
  /** A virtual machine's guest (IPIs and wake-ups exit to the hypervisor). */
  readonly guest: boolean;
  /** The hypervisor, as the kernel named it ('KVM', 'PVM', ...), when the probe could tell. */
  readonly hypervisor?: string;
  /** What told guest from bare metal, and which hypervisor, for the reader. */
  readonly guestEvidence: string;
  /** Whose costs the machine's overrides are (a guest's preset table; bare metal: none). */
  readonly costsFrom: string;
  /** Storage is not probed: an estimate taken from a preset of the same kind. */
  readonly storage: { readonly ioLatencyNs: number; readonly estimate: string };
  /** Anything the machine's model had to simplify (an irregular topology). */
  readonly notes: readonly string[];
  /** Costs measured on this machine (src/calibrate/hostcost.ts), once applied (withMeasuredCosts). */
  readonly measured?: MeasuredCosts;
}

/** Costs measured on the host by twins/hostcost.c and mapped onto the model's cost fields. */
export interface MeasuredCosts {
  readonly costs: Partial<ArchCosts>;
  /** Each cost as 'syscallNs 1004', in the order derived. */
  readonly summary: string;
  /** When they were measured (ISO 8601). */
  readonly measuredAt: string;
  /** A warning when the machine was busy while they were measured. */
  readonly busy?: string;
}

/** The host with its measured costs over its preset's. */
export function withMeasuredCosts(h: HostInfo, m: MeasuredCosts): HostInfo {
  return { ...h, machine: { ...h.machine, costs: { ...h.machine.costs, ...m.costs } }, measured: m };
}

/** A table of guest costs and whose it is, for the reader. */
export interface GuestCosts {
  readonly label: string;
  readonly costs: Partial<ArchCosts>;
}

/** What the host borrows from the machine presets (machine.ts gives its own: HOST_PRESETS). */
export interface HostPresets {
  /** The costs a guest adds on each arch (bare metal: none); an arch without one keeps its own. */
  readonly guestCosts: Readonly<Partial<Record<'x86' | 'arm64' | 'powerpc', GuestCosts>>>;
  /** An x86 PVM guest's costs (the hypervisor named 'PVM' in the kernel log). */
  readonly pvmCosts: GuestCosts;
  /** Storage is not probed: a guest's is taken as this preset's, bare metal's as `metalStorage`'s. */
  readonly guestStorage: Machine;
  readonly metalStorage: Machine;
}

const CPU = '/sys/devices/system/cpu';
const NODE = '/sys/devices/system/node';
const MEMINFO = '/proc/meminfo';
const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
const CPUINFO = '/proc/cpuinfo';
const OSRELEASE = '/proc/sys/kernel/osrelease';

function bad(path: string, what: string): ConfigError {
  return new ConfigError(`--machine host: ${path}: ${what}`);
}

function need(f: HostFiles, path: string): string {
  const s = f.read(path);
  if (s === undefined) throw bad(path, 'cannot read it (missing?)');
  return s;
}

/** A kernel CPU list ('0-3,8-11', '0', '0,28'), as in Documentation/admin-guide/cputopology.rst. */
export function parseCpuList(text: string, path: string): number[] {
  const s = text.trim();
  if (s === '') return [];
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) throw bad(path, `'${s}' is not a CPU list`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw bad(path, `'${s}' is not a CPU list`);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

function readInt(f: HostFiles, path: string): number {
  const s = need(f, path).trim();
  if (!/^-?\d+$/.test(s)) throw bad(path, `'${s}' is not a number`);
  return Number(s);
}

/** The `key : value` fields of /proc/cpuinfo's first block (the first CPU), and the trailing block. */
function cpuinfoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    // The first CPU's value wins; powerpc's machine-wide lines (platform, MMU) come at the end.
    if (key !== '' && !fields.has(key)) fields.set(key, line.slice(i + 1).trim());
  }
  return fields;
}

/** Node's process.arch or `uname -m` -> the --arch name; undefined when spfperf has no model of it. */
function archOfName(name: string): 'x86' | 'arm64' | 'powerpc' | undefined {
  if (name === 'x64' || name === 'x86_64' || name === 'amd64') return 'x86';
  if (name === 'arm64' || name === 'aarch64') return 'arm64';
  if (name === 'ppc64' || name === 'ppc64le') return 'powerpc';
  return undefined;
}

/** The arch from /proc/cpuinfo's fields, when the caller did not say. */
function archOfCpuinfo(c: Map<string, string>): 'x86' | 'arm64' | 'powerpc' | undefined {
  if (c.has('vendor_id') && c.has('flags')) return 'x86';
  if (c.has('CPU implementer')) return 'arm64';
  if (/^POWER\d+/i.test(c.get('cpu') ?? '')) return 'powerpc';
  return undefined;
}

/**
 * powerpc: the MMU the kernel runs with. Kernels since 4.x print it (`MMU : Radix` or `Hash`);
 * older ones: POWER9 and later use radix, POWER8 and earlier hash.
 */
function powerpcProfile(c: Map<string, string>): string {
  const mmu = c.get('MMU');
  if (mmu !== undefined) return /radix/i.test(mmu) ? 'powerpc-radix' : 'powerpc-hash';
  const gen = /^POWER(\d+)/i.exec(c.get('cpu') ?? '');
  return gen !== null && Number(gen[1]) >= 9 ? 'powerpc-radix' : 'powerpc-hash';
}

function parseThp(f: HostFiles): ThpMode {
  const s = f.read(THP);
  if (s === undefined) return 'unavailable'; // CONFIG_TRANSPARENT_HUGEPAGE=n
  const m = /\[(always|madvise|never)\]/.exec(s);
  if (m === null) throw bad(THP, `no [mode] in '${s.trim()}'`);
  return m[1] as ThpMode;
}

function parseMemTotal(f: HostFiles): number {
  const s = need(f, MEMINFO);
  const m = /^MemTotal:\s+(\d+)\s*kB\s*$/m.exec(s);
  if (m === null) throw bad(MEMINFO, 'no MemTotal line');
  const bytes = Number(m[1]) * 1024;
  if (bytes <= 0) throw bad(MEMINFO, 'MemTotal is 0');
  return bytes;
}

function parseKernel(f: HostFiles): { release: string; version: string; parsed: KernelRelease } {
  const release = need(f, OSRELEASE).trim();
  const parsed = kernelRelease(release);
  if (parsed === undefined) throw bad(OSRELEASE, `'${release}' does not start with a version X.Y`);
  return { release, version: parsed.join('.'), parsed };
}

/** The newest design merged in mainline at or before `release`, or the classic 'none'. */
function designOf(release: KernelRelease): string {
  let best: { name: string; at: KernelRelease } | undefined;
  for (const d of DESIGNS) {
    const at = d.mainline === undefined ? undefined : kernelRelease(d.mainline.release);
    if (at === undefined || compareReleases(release, at) < 0) continue;
    if (best === undefined || compareReleases(at, best.at) > 0) best = { name: d.name, at };
  }
  return best?.name ?? 'none';
}

interface Probed {
  readonly topology: TopologySpec;
  readonly notes: string[];
}

/**
 * Sockets, cores per socket and threads per core from the online CPUs' topology files. The
 * model needs a regular machine (every socket the same cores, every core the same threads);
 * an irregular one (hybrid cores, CPUs offline) is modelled as its CPUs without SMT, and said so.
 */
function probeTopology(f: HostFiles, cpus: readonly number[]): Probed {
  const online = new Set(cpus);
  const coreThreads = new Map<string, number[]>();
  const socketCores = new Map<number, Set<string>>();
  const siblingsOf = new Map<number, number[]>();
  for (const cpu of cpus) {
    const dir = `${CPU}/cpu${cpu}/topology`;
    const pkg = readInt(f, `${dir}/physical_package_id`);
    const core = readInt(f, `${dir}/core_id`);
    const sibPath = `${dir}/thread_siblings_list`;
    const sibs = parseCpuList(need(f, sibPath), sibPath).filter((c) => online.has(c));
    if (!sibs.includes(cpu)) throw bad(sibPath, `CPU ${cpu} is not among its own siblings`);
    siblingsOf.set(cpu, sibs);
    const key = `${pkg}:${core}`;
    const threads = coreThreads.get(key) ?? [];
    threads.push(cpu);
    coreThreads.set(key, threads);
    const set = socketCores.get(pkg) ?? new Set<string>();
    set.add(key);
    socketCores.set(pkg, set);
  }
  const ncpus = cpus.length;
  const sockets = socketCores.size;
  const cores = coreThreads.size;
  const threadsPerCore = ncpus / cores;
  const regular =
    Number.isInteger(threadsPerCore) &&
    [...coreThreads.values()].every((t) => t.length === threadsPerCore && t.every((c) => siblingsOf.get(c)!.length === threadsPerCore)) &&
    [...socketCores.values()].every((s) => s.size === cores / sockets);
  if (!regular) {
    const perSocket = ncpus % sockets === 0 ? ncpus / sockets : ncpus;
    const s = ncpus % sockets === 0 ? sockets : 1;
    return {
      topology: { sockets: s, coresPerSocket: perSocket, threadsPerCore: 1 },
      notes: [`irregular topology (${sockets} sockets, ${cores} cores, ${ncpus} CPUs): modelled as ${s} x ${perSocket} CPUs without SMT`],
    };
  }
  // Xeon servers number every core's first thread first ("0,28"); POWER a core's threads in a row.
  const first = siblingsOf.get(cpus[0]!)!;
  const consecutive = first.every((c, i) => i === 0 || c === first[i - 1]! + 1);
  return {
    topology: {
      sockets,
      coresPerSocket: cores / sockets,
      threadsPerCore,
      ...(threadsPerCore > 1 && !consecutive ? { siblingsLast: true } : {}),
    },
    notes: [],
  };
}

const GiB = 1024 ** 3;

function gib(bytes: number): string {
  const g = bytes / GiB;
  return `${g >= 10 ? Math.round(g) : Math.round(g * 10) / 10} GiB`;
}

/**
 * Build the host's `Machine` and what else was found from the text of its files. `arch` is
 * Node's process.arch or `uname -m`; without it the arch is read from /proc/cpuinfo.
 */
export function probeHost(f: HostFiles, presets: HostPresets, arch?: string): HostInfo {
  const cpuinfo = cpuinfoFields(need(f, CPUINFO));
  const a = arch !== undefined ? archOfName(arch) : archOfCpuinfo(cpuinfo);
  if (a === undefined) {
    throw arch !== undefined
      ? new ConfigError(`--machine host: spfperf has no model of this arch (${arch}; known: x86, arm64, powerpc)`)
      : bad(CPUINFO, 'cannot tell the arch (no x86 flags, arm64 CPU implementer or POWER cpu line)');
  }
  const profile = a === 'powerpc' ? powerpcProfile(cpuinfo) : a;
  const cpus = parseCpuList(need(f, `${CPU}/online`), `${CPU}/online`);
  if (cpus.length === 0) throw bad(`${CPU}/online`, 'no CPU online');
  const { topology, notes } = probeTopology(f, cpus);
  const numaNodes = Math.max(1, f.list(NODE).filter((n) => /^node\d+$/.test(n)).length);
  const memoryBytes = parseMemTotal(f);
  const thp = parseThp(f);
  const kernel = parseKernel(f);
  const kind = guestOf(a, cpuinfo, f);
  const guest = kind.guest;
  // Storage is not probed: it is borrowed from a preset, where its number is declared.
  const storageFrom = guest ? presets.guestStorage : presets.metalStorage;
  const storage = {
    ioLatencyNs: storageFrom.ioLatencyNs,
    estimate: `estimated as ${storageFrom.name}'s (not probed), ${storageFrom.ioLatencyNs / 1000} us a read`,
  };
  const cpuModel = cpuinfo.get('model name') ?? (a === 'powerpc' ? cpuinfo.get('cpu') : undefined);
  // No powerpc guest preset yet: a pSeries partition keeps the bare-metal costs.
  const from = !guest ? undefined : a === 'x86' && kind.hypervisor === 'PVM' ? presets.pvmCosts : presets.guestCosts[a];
  const costs = from?.costs;
  // A remote flush by hypercall only where the guest kernel said so (an x86 PV guest): the
  // upstream PVM guest patches, for one, keep the native IPIs for it.
  const pvFlush = a === 'x86' && kind.flushHypercall !== undefined;
  const machine: Machine = {
    name: 'host',
    description:
      `this machine${cpuModel !== undefined ? ` (${cpuModel})` : ''}: ${shapeOf(topology)}, ` +
      `${gib(memoryBytes)}, ${guest ? `${kind.hypervisor !== undefined ? `${kind.hypervisor} ` : ''}guest` : 'bare metal'}`,
    arch: a,
    profile,
    guest,
    topology,
    memoryBytes,
    ...(costs !== undefined ? { costs } : {}),
    ...(pvFlush ? { remoteTlbFlush: 'hypercall' as const } : {}),
    ioLatencyNs: storage.ioLatencyNs,
  };
  return {
    machine,
    ncpus: cpus.length,
    ...(cpuModel !== undefined ? { cpuModel } : {}),
    numaNodes,
    kernelRelease: kernel.release,
    kernelVersion: kernel.version,
    designOfKernel: designOf(kernel.parsed),
    thp,
    guest,
    ...(kind.hypervisor !== undefined ? { hypervisor: kind.hypervisor } : {}),
    guestEvidence: kind.evidence,
    costsFrom: from?.label ?? (guest ? `the arch's own (no ${a} guest preset)` : 'none (bare metal: the arch\'s own)'),
    storage,
    notes,
  };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function shapeOf(t: TopologySpec): string {
  return `${plural(t.sockets, 'socket')} x ${plural(t.coresPerSocket, 'core')} x ${plural(t.threadsPerCore, 'thread')}`;
}

/** What was detected, in one line, for `list --machines`. */
export function describeHost(h: HostInfo): string {
  const design = DESIGNS.find((d) => d.name === h.designOfKernel)?.mainline?.label ?? 'mmap lock only';
  return [
    `probed: ${h.cpuModel !== undefined ? `${h.cpuModel}, ` : ''}${shapeOf(h.machine.topology)}`,
    plural(h.numaNodes, 'NUMA node'),
    gib(h.machine.memoryBytes),
    h.guest ? `${h.hypervisor !== undefined ? `${h.hypervisor} ` : ''}guest (${h.guestEvidence})` : `bare metal (${h.guestEvidence})`,
    `THP ${h.thp}`,
    `kernel ${h.kernelRelease} (${design})`,
    ...(h.measured !== undefined ? [`costs measured here ${h.measured.measuredAt.slice(0, 10)} (${h.measured.summary}${h.measured.busy !== undefined ? `; ${h.measured.busy}` : ''})`] : []),
    ...(h.guest ? [`${h.measured !== undefined ? 'other ' : ''}guest costs ${h.costsFrom}`] : []),
    `storage ${h.storage.estimate}`,
    ...h.notes,
  ].join(', ');
}

// ---- I/O: the real files ------------------------------------------------------------------

/**
 * The kernel log as /dev/kmsg gives it: one record per read, without blocking at its end (a
 * plain file, under a fixture root, reads the same way). Undefined when this user may not read
 * it (kernel.dmesg_restrict).
 */
function readKmsg(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(64 * 1024);
  const parts: string[] = [];
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // records overwritten while reading: go on from the next
        if (code === 'EAGAIN') break; // the end of the log
        return parts.length > 0 ? parts.join('') : undefined;
      }
      if (n === 0) break;
      parts.push(buf.toString('utf8', 0, n));
    }
  } finally {
    closeSync(fd);
  }
  return parts.join('');
}

/** A reader of the files under `root` ('/' for this machine's own). */
export function fsHostFiles(root = '/'): HostFiles {
  return {
    read(path) {
      if (path === KMSG) return readKmsg(join(root, path));
      try {
        return readFileSync(join(root, path), 'utf8');
      } catch {
        return undefined;
      }
    },
    list(dir) {
      try {
        return readdirSync(join(root, dir));
      } catch {
        return [];
      }
    },
  };
}

/**
 * Probe this machine (or a copy of a machine's /sys and /proc under `root`, whose arch is then
 * read from its /proc/cpuinfo). Elsewhere than Linux: a ConfigError.
 */
export function readHost(presets: HostPresets, o: { root?: string; platform?: string; arch?: string } = {}): HostInfo {
  const root = o.root ?? '/';
  const platform = o.platform ?? process.platform;
  if (root === '/' && platform !== 'linux') {
    throw new ConfigError(`--machine host: needs Linux (/proc and /sys); this is ${platform}`);
  }
  return probeHost(fsHostFiles(root), presets, root === '/' ? (o.arch ?? process.arch) : o.arch);
}
