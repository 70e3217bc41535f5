/**
 * `--machine host`'s measured costs: run twins/hostcost.c's microbenchmarks on this machine
 * (built like the twins, with the system C compiler), keep their medians in a cache keyed by the
 * kernel release, the CPU model and the CPU count, map them onto the model's cost fields
 * (./host-costs-map.ts) and give them to the host machine (setHostCosts()). Only `calibrate`
 * measures (again with --remeasure); the other commands take the cached figures when there are.
 *
 * Cache: $SPFPERF_CACHE_DIR, else $XDG_CACHE_HOME/spfperf, else ~/.cache/spfperf, file
 * host-costs.json: { version, hosts: { KEY: CachedMeasurement } }.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getArch } from '../config/arch.js';
import { resolveConfig } from '../config/kconfig.js';
import { listConfigPresets } from '../config/kconfig.js';
import type { HostInfo, MeasuredCosts } from '../config/host.js';
import { probedHostInfo, setHostCosts } from '../config/machine.js';
import { mapHostCosts, modelReference, type HostMeasurement, type MappedCosts } from './host-costs-map.js';
import { BUSY_SHARE, describeLoad, machineLoad, readChildrenCpuNs, readProcStat, type MachineLoad } from './proc-stat.js';
import { median } from './rounds.js';
import { buildTwins, cacheDir, compilerOf, compilerProblem, twinsSourceDir, TwinBuildError } from './twins.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What the cache keeps of one measurement. */
export interface CachedMeasurement extends HostMeasurement {
  readonly key: string;
  readonly measuredAt: string;
  /** The machine's load while measuring, when /proc/stat told it. */
  readonly load: MachineLoad | null;
  /** Every sample, for the record (the figures above are their medians). */
  readonly samples: Readonly<Record<string, readonly number[]>>;
}

const CACHE_FILE = 'host-costs.json';
const CACHE_VERSION = 1;
/** Samples per figure (each a batch or a mapping: see twins/hostcost.c). */
const REPS = 9;

/** The host's kernel config items: the preset of the design its kernel has, then kernel=X.Y. */
export function hostConfig(h: HostInfo): string[] {
  const preset = listConfigPresets().find((p) => p.design === h.designOfKernel);
  return [...(preset === undefined ? [] : [preset.name]), `kernel=${h.kernelVersion}`];
}

/** The cache key: kernel release, CPU model, CPUs, and the version of the microbenchmarks. */
export function hostKey(h: HostInfo): string {
  const src = readFileSync(join(twinsSourceDir(), 'hostcost.c'));
  const bench = createHash('sha256').update(src).digest('hex').slice(0, 8);
  return `${h.kernelRelease} | ${h.cpuModel ?? 'unknown CPU'} | ${h.ncpus} CPUs | hostcost ${bench}`;
}

/** The `key=v1,v2,...` lines of hostcost's output. */
export function parseHostcost(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m === null) continue;
    const v = m[2]!.split(',').map(Number);
    if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new TwinBuildError(`hostcost: '${line.trim()}' is not a list of numbers`);
    out.set(m[1]!, v);
  }
  return out;
}

/** The measurement from hostcost's outputs (the samples of every figure), medians taken. */
export function measurementOf(s: ReadonlyMap<string, readonly number[]>): HostMeasurement {
  const need = (k: string): readonly number[] => {
    const v = s.get(k);
    if (v === undefined) throw new TwinBuildError(`hostcost: no '${k}' in its output`);
    return v;
  };
  const med = (k: string): number => median(need(k));
  const two = s.has('munmap2_touched_ns');
  const futex = s.has('futex_rtt_ns');
  return {
    syscallNs: med('syscall_ns'),
    faultNs: med('fault_ns'),
    ...(s.has('fault_mean_ns') ? { faultMeanNs: med('fault_mean_ns') } : {}),
    ...(s.has('fault2_ns') ? { fault2: { faultNs: med('fault2_ns'), otherFaults: med('fault2_other_faults'), ...(s.has('fault2_mean_ns') ? { meanNs: med('fault2_mean_ns') } : {}) } } : {}),
    munmap1: { touchedNs: med('munmap1_touched_ns'), untouchedNs: med('munmap1_untouched_ns') },
    ...(two ? { munmap2: { touchedNs: med('munmap2_touched_ns'), untouchedNs: med('munmap2_untouched_ns'), otherRunning: med('munmap_other_running'), ...(s.has('munmap2_target_lost_ns') ? { targetLostNs: med('munmap2_target_lost_ns') } : {}) } } : {}),
    ...(s.has('wakeidle_p50_ns') ? { wakeIdle: { p10Ns: med('wakeidle_p10_ns'), p50Ns: med('wakeidle_p50_ns'), p90Ns: med('wakeidle_p90_ns'), slept: med('wakeidle_slept') } } : {}),
    ...(futex ? { futex: { rttNs: med('futex_rtt_ns'), wakeNs: med('futex_wake_ns'), woke: med('futex_woke'), ...(s.has('futex_wake_to_run_ns') ? { wakeToRunNs: med('futex_wake_to_run_ns') } : {}) } } : {}),
  };
}

function runHostcost(bin: string, args: readonly string[]): Map<string, number[]> {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new TwinBuildError(`hostcost ${args.join(' ')} failed: ${r.error?.message ?? `exit ${r.status}: ${r.stderr.trim()}`}`);
  return parseHostcost(r.stdout);
}

/**
 * What `n` CPUs can do together now against one, for pure user-mode work (hostcost spin: five
 * 20 ms samples of each, medians): the ceiling of any real n-thread scaling. Below n on a guest
 * whose vCPUs share host cores or are packed on fewer by a busy host, which /proc/stat does not
 * show (a PVM guest reports no steal time).
 */
export function cpuCapacity(bin: string, n: number): number {
  const one = median(runHostcost(bin, ['spin', 'threads=1', 'reps=5']).get('spin1_per_ms') ?? [NaN]);
  const all = median(runHostcost(bin, ['spin', `threads=${n}`, 'reps=5']).get('spinn_per_ms') ?? [NaN]);
  // A one-thread loop that got no CPU at all (a machine loaded past its CPUs) measures nothing: NaN, not Infinity.
  return one > 0 ? all / one : NaN;
}

/** Run the microbenchmarks (two CPUs or more: the 2-CPU ones too) and read the machine's load around them. */
export function measureHost(bin: string, h: HostInfo): CachedMeasurement {
  const runs: string[][] = [['syscall'], ['fault'], ['munmap', 'threads=1'], ...(h.ncpus >= 2 ? [['fault', 'threads=2'], ['munmap', 'threads=2'], ['futex'], ['wakeidle']] : [])];
  const samples = new Map<string, number[]>();
  const before = readProcStat();
  const cpu0 = readChildrenCpuNs();
  let ours = 0;
  for (const args of runs) {
    for (const [k, v] of runHostcost(bin, [...args, `reps=${REPS}`])) {
      if (k === 'cpu_ns') ours += v[0]!;
      else samples.set(k, v);
    }
  }
  const after = readProcStat();
  const cpu1 = readChildrenCpuNs();
  // The children's CPU time as the kernel accounted it, where /proc says (else their own report).
  if (cpu0 !== null && cpu1 !== null) ours = cpu1 - cpu0;
  return {
    ...measurementOf(samples),
    key: hostKey(h),
    measuredAt: new Date().toISOString(),
    load: before !== null && after !== null ? machineLoad(before, after, ours, h.ncpus) : null,
    samples: Object.fromEntries(samples),
  };
}

interface CacheFile {
  readonly version: number;
  readonly hosts: Record<string, CachedMeasurement>;
}

function cachePath(env: Env): string {
  return join(cacheDir(env), CACHE_FILE);
}

/** The cached measurements (none when the file is missing, unreadable or of another version). */
export function readCache(env: Env): Record<string, CachedMeasurement> {
  try {
    const c = JSON.parse(readFileSync(cachePath(env), 'utf8')) as CacheFile;
    return c.version === CACHE_VERSION && typeof c.hosts === 'object' && c.hosts !== null ? c.hosts : {};
  } catch {
    return {};
  }
}

export function writeCache(env: Env, m: CachedMeasurement): string {
  const path = cachePath(env);
  mkdirSync(cacheDir(env), { recursive: true });
  const file: CacheFile = { version: CACHE_VERSION, hosts: { ...readCache(env), [m.key]: m } };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n');
  renameSync(tmp, path);
  return path;
}

/** The mapped costs of a measurement on host `h` (the model's reference run on h as probed). */
export function costsOf(m: HostMeasurement, h: HostInfo): MappedCosts {
  const ref = modelReference(h.machine, getArch(h.machine.profile), resolveConfig(hostConfig(h)));
  return mapHostCosts(m, ref, h.machine.remoteTlbFlush === 'hypercall');
}

/** What the host shows of its measured costs (list --machines, calibrate's header). */
export function measuredCostsOf(m: CachedMeasurement, mapped: MappedCosts): MeasuredCosts {
  const busy = m.load !== null && m.load.others > BUSY_SHARE ? `measured while busy: ${describeLoad(m.load)}` : undefined;
  return {
    costs: mapped.costs,
    summary: mapped.derivations.map((d) => `${d.key} ${d.value}`).join(', '),
    measuredAt: m.measuredAt,
    ...(busy !== undefined ? { busy } : {}),
  };
}

/** How the host costs were had: from the cache, measured now, or not at all (and why). */
export type HostCostsOutcome =
  | { readonly kind: 'cached' | 'measured'; readonly m: CachedMeasurement; readonly mapped: MappedCosts; readonly cachePath: string }
  | { readonly kind: 'none'; readonly why: string };

/**
 * Give `--machine host` its measured costs. `measure`: 'cached' takes the cache's only;
 * 'if-missing' measures when the cache has none for this host; 'again' measures whatever the
 * cache holds. Only x86 hosts are measured (the microbenchmarks assume 4 KiB pages and x86's
 * flushes); needs the C compiler (`cc` or $CC) for a measurement.
 */
export function useHostCosts(env: Env, measure: 'cached' | 'if-missing' | 'again'): HostCostsOutcome {
  const h = probedHostInfo();
  // Each call decides afresh (the CLI runs in-process in tests, one environment after another).
  setHostCosts(undefined);
  if (h.machine.arch !== 'x86') return { kind: 'none', why: `host costs are measured on x86 only (this is ${h.machine.arch})` };
  const key = hostKey(h);
  let m: CachedMeasurement | undefined = measure === 'again' ? undefined : readCache(env)[key];
  let kind: 'cached' | 'measured' = 'cached';
  if (m === undefined) {
    if (measure === 'cached') return { kind: 'none', why: 'not measured here yet (spfperf calibrate measures them)' };
    const noCc = compilerProblem(compilerOf(env));
    if (noCc !== null) return { kind: 'none', why: `not measured: ${noCc}` };
    const dir = buildTwins(['hostcost'], env);
    m = measureHost(join(dir, 'hostcost'), h);
    writeCache(env, m);
    kind = 'measured';
  }
  const mapped = costsOf(m, h);
  setHostCosts(measuredCostsOf(m, mapped));
  return { kind, m, mapped, cachePath: cachePath(env) };
}
