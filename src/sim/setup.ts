import { ARCH_NAMES, getArch, type ArchProfile } from '../config/arch.js';
import { genericMachine, getMachine, MACHINES, machineCpus, type Machine } from '../config/machine.js';
import { resolveConfig, type KernelConfig } from '../config/kconfig.js';
import { UsageError } from '../errors.js';
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
  /** The perturbation the run's arch and machine were built with, passed on to the engine. */
  readonly perturb?: Perturbation;
}

/** The machine used when neither --machine nor --arch says otherwise. */
export const DEFAULT_MACHINE = 'x86-vm16';

/** A whole-number option in min..max, or a UsageError naming the option. */
export function parseIntOption(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`option '${name}': '${v}' is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`option '${name}': ${n} is out of range (${min}..${max})`);
  return n;
}

export function prepareRun(workloadArg: string, paramArgs: readonly string[], o: CommonRunOptions): PreparedRun {
  let machine: Machine;
  if (o.machine !== undefined) {
    // An unknown name is a bad option value (exit 1), as for --arch; not a bad kernel config.
    if (o.machine !== 'host' && !Object.hasOwn(MACHINES, o.machine)) {
      throw new UsageError(`option '--machine': unknown machine '${o.machine}' (known: ${Object.keys(MACHINES).join(', ')}, host)`);
    }
    machine = getMachine(o.machine);
    if (o.arch !== undefined && o.arch !== machine.arch) {
      throw new UsageError(`option '--arch ${o.arch}' contradicts '--machine ${machine.name}' (a ${machine.arch} machine)`);
    }
  } else if (o.arch !== undefined) {
    // An arch alone is a bare-metal machine of it: being a guest is a machine's property (the
    // guest presets are x86-vm16 and arm64-vm), never the arch's.
    if (!ARCH_NAMES.includes(o.arch)) throw new UsageError(`option '--arch': unknown arch '${o.arch}' (known: ${ARCH_NAMES.join(', ')})`);
    machine = genericMachine(o.arch, getArch(o.arch).profile, 16);
  } else {
    machine = getMachine(DEFAULT_MACHINE);
  }
  // A perturbation scales declared constants of the arch table (where the machine does not
  // override them) and of the machine's own overrides.
  const base = perturbArch(getArch(machine.profile), machine, o.perturb);
  machine = perturbMachine(machine, o.perturb);
  // The machine's own costs (virtualisation, a different core) override the arch's defaults.
  const arch: ArchProfile = machine.costs ? { ...base, costs: { ...base.costs, ...machine.costs } } : base;
  const ncpus = o.cpus !== undefined ? parseIntOption('--cpus', o.cpus, 1, 1024) : machineCpus(machine);
  const seed = o.seed !== undefined ? parseIntOption('--seed', o.seed, 0, 2 ** 32 - 1) : 1;
  const config = resolveConfig(o.config ?? []);
  const workload = loadWorkload(workloadArg);
  const params = resolveParams(workload, paramArgs, { ncpus, seed });
  const perturb = o.perturb !== undefined && o.perturb.size > 0 ? { perturb: o.perturb } : {};
  return { workload, machine, arch, ncpus, config, seed, paramArgs, params, check: o.check === true, ...perturb };
}

export function runOptionsOf(p: PreparedRun): RunOptions {
  return { workload: p.workload, params: p.params, arch: p.arch, machine: p.machine, ncpus: p.ncpus, seed: p.seed, spf: strategyFor(p.config, p.arch), faultCompleted: p.config.faultCompleted, thp: p.config.thp, vmacache: p.config.vmacache, rwsem: p.config.rwsem, spinlock: p.config.spinlock, lazyTlb: p.config.lazyTlb, munmapDowngrade: p.config.munmapDowngrade, vmaLockAnonVma: p.config.vmaLockAnonVma, khugepaged: p.config.khugepaged, ...(p.check ? { checkSync: true, checkInvariants: true } : {}), ...(p.perturb ? { perturb: p.perturb } : {}) };
}
