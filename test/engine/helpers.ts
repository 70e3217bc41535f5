import { Engine, type Code, type EngineCosts, type Task } from '../../src/engine/engine.js';
import { Topology, type LineLatencies, type TopologySpec } from '../../src/engine/topology.js';

/** Line latencies used throughout the engine tests (ns). */
export const LAT: LineLatencies = { local: 1, smt: 5, socket: 50, remote: 120, memory: 80 };

/** Engine costs used throughout the engine tests: no jitter, so every time is exact. */
export const COSTS: EngineCosts = { contextSwitchNs: 1000, wakeupNs: 2000, timesliceNs: 1_000_000, jitter: 0 };

/** One socket of `ncpus` single-threaded cores: every transfer between two CPUs costs LAT.socket. */
export function flatTopo(ncpus: number): Topology {
  return new Topology({ sockets: 1, coresPerSocket: ncpus, threadsPerCore: 1 }, LAT);
}

export function topo(spec: TopologySpec): Topology {
  return new Topology(spec, LAT);
}

export interface SetupOptions {
  cpus?: number;
  topo?: Topology;
  costs?: Partial<EngineCosts>;
  seed?: number;
}

export type Entry = [string, number];

/**
 * A tiny simulation: an Engine, a log of [what, virtual time] entries, and helpers to spawn tasks
 * (tid from 100 up, pid 1) and to note an entry at a task's clock.
 */
export function setup(o: SetupOptions = {}) {
  const eng = new Engine(o.topo ?? flatTopo(o.cpus ?? 4), { ...COSTS, ...o.costs }, o.seed ?? 1);
  const log: Entry[] = [];
  let tid = 100;
  const spawn = (name: string, body: (t: Task) => Code, opts: { at?: number; cpu?: number } = {}): Task =>
    eng.spawn(tid++, 1, name, opts.at ?? 0, body, opts.cpu ?? -1);
  const note = (what: string, t: Task): void => {
    log.push([what, t.clock]);
  };
  return { eng, log, spawn, note };
}
