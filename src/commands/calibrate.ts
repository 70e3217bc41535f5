/**
 * spfperf calibrate: run the shipped workloads' real twins (twins/*.c, built with the system C
 * compiler) on this machine and the same workloads on the model, side by side.
 *
 *   $ spfperf calibrate --machine x86-vm16 --cpus 2 page_fault1 size=16M iterations=2
 *
 * The twins (src/calibrate/twins.ts): page_fault1..3 in threads and processes mode, ebizzy -mTt,
 * -mTRp and -mRTt, multi-fault, pft. Every one runs a fixed amount of work (iterations=, or
 * multi-fault's rounds=), and the model is given the same count (ebizzy and pft, time-bound by
 * default, have a fixed-work mode for it). For each twin and each thread count 1..N (N: --cpus,
 * else this machine's CPUs) the twin runs -r times (default 5) under `perf stat -e
 * page-faults,task-clock` when perf is allowed, else counted by its own getrusage(), and as many
 * times empty (no work) to measure its own start-up, which is taken off. The model runs the
 * workload once with the same parameters on the machine given. Printed per workload and thread
 * count: faults real vs simulated (a fixed amount of work: they must be equal), throughput
 * against one thread real vs simulated, CPU time per fault real vs simulated, and the errors.
 * docs/calibrate.md says how to read it.
 *
 * The machine modelled is --machine, else `host` (the machine calibrate runs on); on the host,
 * without --config, the model runs the design the host's kernel has (hostConfig()), with the
 * costs measured on it (src/calibrate/hostcost.ts: measured once and cached, again with
 * --remeasure). A twin's real runs go round by round, each thread count in turn, and a point's
 * scaling is the median of its rounds' (src/calibrate/rounds.ts). Around a twin's real runs
 * calibrate reads /proc/stat: the share of the CPUs' time anything else took is printed on its
 * rows, and a busy machine is warned of.
 */
import { availableParallelism } from 'node:os';
import { EV } from '../events/catalog.js';
import { formatCalibrateJson, formatCalibrateTable, type CalibrateRow } from '../format/calibrate.js';
import { UsageError } from '../errors.js';
import { writeAll, type CliIo } from '../io.js';
import { machineWithCpus, parseIntOption, prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { hostInfo, machineArg } from '../config/machine.js';
import { runWorkload } from '../sim/run.js';
import { buildTwins, compilerOf, compilerProblem, perfProblem, runTwin, tmpfsDir, TWINS, type Twin } from '../calibrate/twins.js';
import { mergeParamArgs } from '../workload/params.js';
import { cpuCapacity, hostConfig as hostConfigOf, useHostCosts, type HostCostsOutcome } from '../calibrate/hostcost.js';
import { median, pairedScaling, runRounds } from '../calibrate/rounds.js';
import { BUSY_SHARE, describeLoad, machineLoad, readChildrenCpuNs, readProcStat, sumLoads, type MachineLoad } from '../calibrate/proc-stat.js';

export interface CalibrateOptions extends CommonRunOptions {
  readonly json?: boolean;
  readonly repeat?: string;
  /** Measure the host's costs again, whatever the cache holds. */
  readonly remeasure?: boolean;
}

/** The machine modelled when --machine is not given: the one the real twins run on. */
export const CALIBRATE_MACHINE = 'host';

/**
 * The --config items of the host's own kernel: the preset of the design that kernel has, then
 * `kernel=X.Y` (its era keys).
 */
export function hostConfig(): string[] {
  return hostConfigOf(hostInfo());
}

/** Runs of each real point by default (the issue asks for medians of at least 5). */
const DEFAULT_RUNS = 5;

/** Half the runs' range, as a fraction of their median. */
function spread(xs: readonly number[]): number {
  const m = median(xs);
  return m === 0 ? 0 : (Math.max(...xs) - Math.min(...xs)) / 2 / m;
}

/** A twin and the values of its settable parameters for this run (its defaults, then the command line's). */
interface TwinPlan {
  readonly twin: Twin;
  readonly params: readonly string[];
  readonly work: number;
}

/**
 * The twins named (default all) and their parameters: a `name=value` sets that parameter of every
 * twin chosen that takes it (iterations= of page_fault1..3, ebizzy and pft; rounds= of
 * multi-fault), and must be taken by one of them.
 */
function parseArgs(args: readonly string[]): TwinPlan[] {
  const set = new Map<string, string>();
  const names: string[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 0) names.push(a);
    else set.set(a.slice(0, eq), a.slice(eq + 1));
  }
  const twins = names.length === 0 ? [...TWINS] : names.flatMap((n) => {
    const hit = TWINS.filter((t) => t.name === n || t.workload === n);
    if (hit.length === 0) throw new UsageError(`calibrate: no twin for '${n}' (known: ${[...new Set(TWINS.flatMap((t) => [t.workload, t.name]))].join(', ')})`);
    return hit;
  });
  const chosen = [...new Set(twins)];
  const settable = [...new Set(chosen.flatMap((t) => Object.keys(t.defaults)))];
  for (const k of set.keys()) {
    if (!settable.includes(k)) throw new UsageError(`calibrate: parameter '${k}' cannot be set (settable for the twins chosen: ${settable.join(', ')}; threads runs 1..--cpus)`);
  }
  return chosen.map((twin) => {
    const values = Object.entries(twin.defaults).map(([k, v]) => [k, set.get(k) ?? v] as const);
    const work = values.find(([k]) => k === twin.work)![1];
    if (!/^[1-9]\d*$/.test(work)) throw new UsageError(`calibrate: ${twin.work} must be a whole number >= 1 (the twins run a fixed amount of work)`);
    return { twin, params: values.map(([k, v]) => `${k}=${v}`), work: Number(work) };
  });
}

export async function run(args: readonly string[], o: CalibrateOptions, io: CliIo): Promise<number> {
  const t0 = process.hrtime.bigint();
  const plans = parseArgs(args);
  const nruns = o.repeat === undefined ? DEFAULT_RUNS : parseIntOption('-r', o.repeat, 1, 1000);
  const machine = o.machine ?? CALIBRATE_MACHINE;
  // No --cpus: this machine's CPUs, but no more than a preset or a machine file has (a count
  // above it is refused).
  const preset = machine === 'host' ? undefined : machineArg(machine);
  const ncpus =
    o.cpus !== undefined ? parseIntOption('--cpus', o.cpus, 1, 1024)
    : preset === undefined ? availableParallelism()
    : Math.min(availableParallelism(), machineWithCpus(preset, { ...o, cpus: undefined }).ncpus);
  // The model's side is prepared first: a bad --machine, --config or parameter value fails
  // before anything builds.
  const config = o.config !== undefined && o.config.length > 0 ? o.config : machine === 'host' ? hostConfig() : [];
  const modelOpts: CommonRunOptions = { ...o, machine, cpus: String(ncpus), config };
  for (const p of plans) prepareRun(p.twin.workload, ['threads=1', ...p.twin.fixed, ...p.params], modelOpts);

  const cc = compilerOf(io.env);
  const noCc = compilerProblem(cc);
  if (noCc !== null) {
    io.stderr.write(`spfperf calibrate: skipped: ${noCc}\n`);
    return 0;
  }
  const binDir = buildTwins([...new Set([...plans.map((p) => p.twin.source), 'hostcost'])], io.env);
  const noPerf = perfProblem(io.env);
  const shm = tmpfsDir();
  const note = (s: string): void => void io.stderr.write(`calibrate: ${s}\n`);
  if (machine === 'host') hostCostsNotes(useHostCosts(io.env, o.remeasure ? 'again' : 'if-missing'), note);
  else if (o.remeasure) note('--remeasure: the host\'s costs are only measured for --machine host');
  note(`real: ${noPerf === null ? 'perf stat -e page-faults,task-clock' : `getrusage (${noPerf})`}, median of ${nruns} runs, start-up (an empty run: no work) taken off both sides`);
  note(`model: --machine ${machine} --cpus ${ncpus}${config.map((c) => ` --config ${c}`).join('')}`);
  // The parameters both sides are given, once per set of twins that share them.
  const groups = new Map<string, string[]>();
  for (const p of plans) {
    const key = [...p.twin.fixed.filter((f) => !f.startsWith('mode=')), ...p.params].join(' ');
    groups.set(key, [...(groups.get(key) ?? []), p.twin.name]);
  }
  for (const [key, names] of groups) note(`${names.join(', ')}: ${key}`);
  if (plans.some((p) => p.twin.files) && shm === null) note('no tmpfs directory found: the file twins map files on disk, the model on tmpfs');

  const rows: CalibrateRow[] = [];
  const loads: (MachineLoad | null)[] = [];
  const capacities: number[] = [];
  for (const { twin, params, work } of plans) {
    const bin = `${binDir}/${twin.source}`;
    // Both sides' parameters; the real twin's also name its files' directory.
    const commonOf = (n: number): string[] => [`threads=${n}`, ...twin.fixed, ...params];
    const argsOf = (n: number): string[] => [...commonOf(n), ...(twin.files && shm !== null ? [`dir=${shm}`] : [])];
    const counts = Array.from({ length: ncpus }, (_, i) => i + 1);
    // What the CPUs can do together just before (n threads against one, no kernel in it).
    const capacity = counts.map((n) => (n === 1 ? 1 : cpuCapacity(`${binDir}/hostcost`, n)));
    const before = readProcStat();
    const cpu0 = readChildrenCpuNs();
    // Each count's runs, an empty one (the twin's start-up) and a full one, round by round.
    const runs = runRounds(nruns, counts, (n) => [runTwin(bin, [...argsOf(n), `${twin.work}=0`], noPerf === null), runTwin(bin, argsOf(n), noPerf === null)] as const);
    const empty = runs.map((rs) => rs.map((r) => r[0]));
    const full = runs.map((rs) => rs.map((r) => r[1]));
    const after = readProcStat();
    const cpu1 = readChildrenCpuNs();
    // Ours: perf and the twins, as the kernel accounted their CPU time (else the twins' own counts).
    const ours = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : [...empty, ...full].flat().reduce((s, r) => s + r.cpuNs, 0);
    const load = before !== null && after !== null ? machineLoad(before, after, ours, availableParallelism()) : null;
    const thr = full.map((rs) => rs.map((r) => (r.elapsedNs > 0 ? (r.ops / r.elapsedNs) * 1e9 : 0)));
    let simOne = 0;
    for (const n of counts) {
      const common = commonOf(n);
      capacities.push(capacity[n - 1]!);
      loads.push(load);
      const startup = median(empty[n - 1]!.map((r) => r.faults));
      const realFaults = median(full[n - 1]!.map((r) => r.faults)) - startup;
      const realCpu = median(full[n - 1]!.map((r) => r.cpuNs)) - median(empty[n - 1]!.map((r) => r.cpuNs));

      const res = runWorkload(runOptionsOf(prepareRun(twin.workload, common, modelOpts)));
      // The model's start-up too (ebizzy writes its chunks before the records): an empty run.
      const none = runWorkload(runOptionsOf(prepareRun(twin.workload, mergeParamArgs(common, [`${twin.work}=0`, ...twin.emptyModel]), modelOpts)));
      const simStartup = none.counts.total(EV.PAGE_FAULTS);
      const simFaults = res.counts.total(EV.PAGE_FAULTS) - simStartup;
      const simThr = ((res.counters.get(twin.ops) ?? 0) / res.elapsedNs) * 1e9;
      if (n === 1) simOne = simThr;
      rows.push({
        workload: twin.name,
        threads: n,
        params: params.join(' '),
        iterations: work,
        runs: nruns,
        source: full[n - 1]![0]!.source,
        startupFaults: startup,
        realFaults,
        realLoopFaults: median(full[n - 1]!.map((r) => r.loopFaults)),
        simStartupFaults: simStartup,
        simFaults,
        realThroughput: median(thr[n - 1]!),
        realSpread: spread(thr[n - 1]!),
        simThroughput: simThr,
        realScaling: pairedScaling(thr[n - 1]!, thr[0]!),
        simScaling: simThr / simOne,
        realNsPerFault: realFaults > 0 ? realCpu / realFaults : NaN,
        simNsPerFault: simFaults > 0 ? (res.userNs + res.sysNs - none.userNs - none.sysNs) / simFaults : NaN,
        otherLoad: load?.others ?? null,
        capacity: capacity[n - 1]!,
      });
    }
  }
  await writeAll(io.stdout, o.json ? formatCalibrateJson(rows) : formatCalibrateTable(rows));
  const multi = capacities.filter((c, i) => rows[i]!.threads > 1 && Number.isFinite(c));
  const starved = capacities.filter((c, i) => rows[i]!.threads > 1 && !Number.isFinite(c)).length;
  if (starved > 0) note(`the CPUs' own capacity could not be measured before ${starved} point${starved === 1 ? '' : 's'} (Capacity '-'): the one-thread loop got no CPU time, the machine is loaded past its CPUs`);
  if (multi.length > 0) note(`the CPUs' own ${ncpus}-thread capacity (pure user-mode loops against one, before each twin's runs): ${Math.min(...multi).toFixed(2)}-${Math.max(...multi).toFixed(2)} (Capacity: per row; a real scaling cannot pass it, the model's CPUs have ${ncpus})`);
  const all = sumLoads(loads);
  if (all === null) note('the machine\'s load during the real runs could not be told (/proc/stat unreadable, or the runs spanned under 4 of its 10 ms ticks)');
  else {
    note(`during the real runs: ${describeLoad(all)} (Others: per row)`);
    if (all.others > BUSY_SHARE) note(`warning: the machine was busy (anything else took ${Math.round(all.others * 100)} % of the CPUs' time): the real scaling and ns/fault are disturbed, not a calibration; run on an idle machine`);
  }
  note(`${rows.length} points in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  return 0;
}

/** calibrate's header lines on the host's measured costs. */
function hostCostsNotes(h: HostCostsOutcome, note: (s: string) => void): void {
  if (h.kind === 'none') {
    note(`host costs: ${h.why}; the model keeps its preset costs`);
    return;
  }
  const when = h.m.measuredAt.replace('T', ' ').slice(0, 19);
  note(`host costs: ${h.kind === 'measured' ? `measured now (${when}), cached in ${h.cachePath}` : `as measured ${when} (cached in ${h.cachePath}; --remeasure measures again)`}`);
  for (const d of h.mapped.derivations) note(`  ${d.key} = ${d.value}${d.unit ?? ' ns'}: ${d.how}`);
  for (const n of h.mapped.notes) note(`  ${n}`);
  if (h.m.load !== null) {
    note(`  while measuring: ${describeLoad(h.m.load)}`);
    if (h.m.load.others > BUSY_SHARE) note('  warning: the machine was busy while they were measured: --remeasure on an idle machine');
  }
}
