import type { TopologySpec, LineLatencies } from '../engine/topology.js';
import { ConfigError } from '../errors.js';

/** A machine preset: topology, memory and arch (`--machine NAME`). */
export interface Machine {
  readonly name: string;
  readonly description: string;
  readonly arch: string;
  readonly topology: TopologySpec;
  readonly memoryBytes: number;
  /** Overrides of the arch's default cache-line latencies, where the machine is known to differ. */
  readonly lineLatencies?: Partial<LineLatencies>;
}

const GiB = 1024 ** 3;

export const MACHINES: Readonly<Record<string, Machine>> = {
  'x86-vm16': {
    name: 'x86-vm16',
    description: '16-vCPU x86-64 KVM guest, one virtual socket, 32 GiB',
    arch: 'x86',
    topology: { sockets: 1, coresPerSocket: 16, threadsPerCore: 1 },
    memoryBytes: 32 * GiB,
  },
};

/** The machine used when only an arch (and maybe --cpus) is given: one socket of plain cores. */
export function genericMachine(arch: string, ncpus: number): Machine {
  return {
    name: `${arch}-generic`,
    description: `${ncpus}-CPU ${arch} machine, one socket, no SMT`,
    arch,
    topology: { sockets: 1, coresPerSocket: ncpus, threadsPerCore: 1 },
    memoryBytes: Math.max(16, 2 * ncpus) * GiB,
  };
}

export function getMachine(name: string): Machine {
  const m = MACHINES[name];
  if (m === undefined) {
    throw new ConfigError(`unknown machine '${name}' (known: ${Object.keys(MACHINES).join(', ')})`);
  }
  return m;
}

export function machineCpus(m: Machine): number {
  return m.topology.sockets * m.topology.coresPerSocket * m.topology.threadsPerCore;
}
