import { ARCH_NAMES, getArch, type ArchProfile } from '../config/arch.js';
import { genericMachine, getMachine, machineArg, machineCpus, reshapeMachine, shapeText, type Machine } from '../config/machine.js';
import { resolveConfig, type KernelConfig } from '../config/kconfig.js';
import { UsageError } from '../errors.js';
import { MAX_CPUS } from '../config/limits.js';
import { loadWorkload } from '../workload/load.js';
import { resolveParams } from '../workload/params.js';
import type { Workload } from '../workload/ir.js';
import type { RunOptions } from './run.js';
import { strategyFor } from '../mm/spf/index.js';
import { perturbArch, perturbMachine, type Perturbation } from '../config/constants.js';

/** Options every command that runs a workload shares (stat, record). */
export interface CommonRunOptions {
  readonly arch?: string;
  readonly machine?: string;
  readonly cpus?: string;
  /** --sockets, --cores-per-socket, --threads-per-core: reshape the machine's topology. */
  readonly sockets?: string;
  readonly coresPerSocket?: string;
  readonly threadsPerCore?: string;
  readonly config?: readonly string[];
  readonly seed?: string;
  /** --check: the engine checks its sync rule on every shared access, the model its invariants. */
  readonly check?: boolean;
  /** Declared constants scaled for this run (validate --sensitivity); none: the model as shipped. */
  readonly perturb?: Perturbation;
}

export interface PreparedRun {
  readonly workload: Workload;
  readonly machine: Machine;
  readonly arch: ArchProfile;
  readonly ncpus: number;
  readonly config: KernelConfig;
  readonly seed: number;
  /** The parameter values given on the command line, as given. */
  readonly paramArgs: readonly string[];
  readonly params: ReadonlyMap<string, number>;
  /** --check given. */
  readonly check: boolean;
  /** The machine's shape when the topology flags reshaped it ("2 sockets x 28 cores x 2 threads"). */
  readonly reshaped?: string;
  /** The perturbation the run's arch and machine were built with, passed on to the engine. */
  readonly perturb?: Perturbation;
}

/** The CPUs of the generic machine of --arch alone when --cpus does not ask for more. */
export const GENERIC_CPUS = 16;

/** The machine used when neither --machine nor --arch says otherwise. */
export const DEFAULT_MACHINE = 'x86-vm16';

/** A whole-number option in min..max, or a UsageError naming the option. */
export function parseIntOption(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`option '${name}': '${v}' is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`option '${name}': ${n} is out of range (${min}..${max})`);
  return n;
}

export { MAX_CPUS };

const SHAPE_FLAGS = '--sockets, --cores-per-socket, --threads-per-core';

/**
 * The machine as the topology flags reshape it, and the CPUs the run takes of it: --cpus N the
 * first N (as Linux numbers them, src/engine/topology.ts), no --cpus all of them. A count above
 * the machine's is refused, naming its shape and the flags that would reshape it; only the
 * generic machine of --arch alone grows to N one-socket cores, as it is built for the count.
 */
export function machineWithCpus(base: Machine, o: CommonRunOptions, generic?: (ncpus: number) => Machine): { machine: Machine; ncpus: number; reshaped?: string } {
  const shape = {
    sockets: o.sockets === undefined ? undefined : parseIntOption('--sockets', o.sockets, 1, MAX_CPUS),
    coresPerSocket: o.coresPerSocket === undefined ? undefined : parseIntOption('--cores-per-socket', o.coresPerSocket, 1, MAX_CPUS),
    threadsPerCore: o.threadsPerCore === undefined ? undefined : parseIntOption('--threads-per-core', o.threadsPerCore, 1, MAX_CPUS),
  };
  const reshaped = shape.sockets !== undefined || shape.coresPerSocket !== undefined || shape.threadsPerCore !== undefined;
  const want = o.cpus !== undefined ? parseIntOption('--cpus', o.cpus, 1, MAX_CPUS) : undefined;
  let machine = reshapeMachine(base, shape);
  if (!reshaped && generic !== undefined && want !== undefined && want > machineCpus(machine)) machine = generic(want);
  const full = machineCpus(machine);
  if (full > MAX_CPUS) {
    throw new UsageError(`options ${SHAPE_FLAGS}: ${machine.name} reshaped to ${shapeText(machine.topology)} has ${full} CPUs, more than ${MAX_CPUS}`);
  }
  if (want !== undefined && want > full) {
    throw new UsageError(`option '--cpus': ${want} is more than the ${full} CPUs of ${machine.name}${reshaped ? ' as reshaped' : ''} (${shapeText(machine.topology)}); give ${SHAPE_FLAGS} to reshape it`);
  }
  return { machine, ncpus: want ?? full, ...(reshaped ? { reshaped: shapeText(machine.topology) } : {}) };
}

export function prepareRun(workloadArg: string, paramArgs: readonly string[], o: CommonRunOptions): PreparedRun {
  let machine: Machine;
  let generic: ((ncpus: number) => Machine) | undefined;
  if (o.machine !== undefined) {
    // An unknown name is a bad option value (exit 1), as for --arch; not a bad kernel config. A
    // machine file that is there but wrong is a bad config (exit 2: src/config/machine-file.ts).
    machine = machineArg(o.machine);
    if (o.arch !== undefined && o.arch !== machine.arch) {
      throw new UsageError(`option '--arch ${o.arch}' contradicts '--machine ${machine.name}' (a ${machine.arch} machine)`);
    }
  } else if (o.arch !== undefined) {
    // An arch alone is a bare-metal machine of it: being a guest is a machine's property (the
    // guest presets are x86-vm16 and arm64-vm), never the arch's.
    if (!ARCH_NAMES.includes(o.arch)) throw new UsageError(`option '--arch': unknown arch '${o.arch}' (known: ${ARCH_NAMES.join(', ')})`);
    const arch = o.arch;
    // 16 CPUs, or as many one-socket cores as --cpus asks for (machineWithCpus).
    generic = (n) => genericMachine(arch, getArch(arch).profile, Math.max(GENERIC_CPUS, n));
    machine = generic(GENERIC_CPUS);
  } else {
    machine = getMachine(DEFAULT_MACHINE);
  }
  const shaped = machineWithCpus(machine, o, generic);
  machine = shaped.machine;
  const ncpus = shaped.ncpus;
  // A perturbation scales declared constants of the arch table (where the machine does not
  // override them) and of the machine's own overrides.
  const base = perturbArch(getArch(machine.profile), machine, o.perturb);
  machine = perturbMachine(machine, o.perturb);
  // The machine's own costs (virtualisation, a different core) override the arch's defaults.
  const arch: ArchProfile = machine.costs ? { ...base, costs: { ...base.costs, ...machine.costs } } : base;
  const seed = o.seed !== undefined ? parseIntOption('--seed', o.seed, 0, 2 ** 32 - 1) : 1;
  const config = resolveConfig(o.config ?? []);
  const workload = loadWorkload(workloadArg);
  const params = resolveParams(workload, paramArgs, { ncpus, seed });
  const perturb = o.perturb !== undefined && o.perturb.size > 0 ? { perturb: o.perturb } : {};
  const shape = shaped.reshaped !== undefined ? { reshaped: shaped.reshaped } : {};
  return { workload, machine, arch, ncpus, config, seed, paramArgs, params, check: o.check === true, ...shape, ...perturb };
}

export function runOptionsOf(p: PreparedRun): RunOptions {
  return { workload: p.workload, params: p.params, arch: p.arch, machine: p.machine, ncpus: p.ncpus, seed: p.seed, spf: strategyFor(p.config, p.arch), faultCompleted: p.config.faultCompleted, thp: p.config.thp, vmacache: p.config.vmacache, rwsem: p.config.rwsem, spinlock: p.config.spinlock, lazyTlb: p.config.lazyTlb, thpAnonAlign: p.config.thpAnonAlign, munmapDowngrade: p.config.munmapDowngrade, vmaLockAnonVma: p.config.vmaLockAnonVma, khugepaged: p.config.khugepaged, ...(p.check ? { checkSync: true, checkInvariants: true } : {}), ...(p.perturb ? { perturb: p.perturb } : {}) };
}
