/**
 * Machine presets (src/config/machine.ts): their shape (arch profile, CPUs, topology), the
 * topology the engine builds from them, and a small workload run on each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ARCHES, getArch } from '../../src/config/arch.js';
import { genericMachine, getMachine, machineCpus, MACHINES, reshapeMachine, shapeText, type Machine } from '../../src/config/machine.js';
import { Topology } from '../../src/engine/topology.js';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_MACHINE, prepareRun } from '../../src/sim/setup.js';
import { EV } from '../../src/events/catalog.js';
import { archOf, faults, MM_EVENTS, proc, runMm, total, totals } from '../mm/helpers.js';
import { ROOT } from '../helpers/golden.js';

/** The machines table of docs/model.md ("Machines and architectures"); a test below reads it. */
const EXPECTED: Record<string, { profile: string; cpus: number }> = {
  'x86-vm16': { profile: 'x86', cpus: 16 },
  'x86-pvm2': { profile: 'x86', cpus: 2 },
  'x86-16': { profile: 'x86', cpus: 16 },
  'x86-2s8c': { profile: 'x86', cpus: 8 },
  'e5-2690v3': { profile: 'x86', cpus: 48 },
  'skl-4s192': { profile: 'x86', cpus: 192 },
  'p8-80': { profile: 'powerpc-hash', cpus: 80 },
  'p8-176': { profile: 'powerpc-hash', cpus: 176 },
  msm845: { profile: 'arm64', cpus: 8 },
  'arm64-vm': { profile: 'arm64', cpus: 4 },
  'skl-2s112': { profile: 'x86', cpus: 112 },
  'spr-2s224': { profile: 'x86', cpus: 224 },
  'rome-2s256': { profile: 'x86', cpus: 256 },
  'genoa-2s384': { profile: 'x86', cpus: 384 },
  'graviton3-64': { profile: 'arm64', cpus: 64 },
  'p9-2s160': { profile: 'powerpc-radix', cpus: 160 },
};

const NAMES = Object.keys(MACHINES);

describe('machine presets', () => {
  test('the presets are those of the table in docs/model.md', () => {
    expect(NAMES.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  test('docs/model.md lists every preset with its arch profile and CPU count', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'model.md'), 'utf8');
    const at = doc.indexOf('## Machines and architectures');
    expect(at).toBeGreaterThanOrEqual(0);
    // Rows like "| `p8-80`, `p8-176` | powerpc-hash | 80, 176 | ... |": names and CPU counts pair up.
    const rows: Record<string, { profile: string; cpus: number }> = {};
    for (const line of doc.slice(at).split('\n\n')[1]!.split('\n').slice(2)) {
      const [names, profile, cpus] = line.split('|').slice(1, 4).map((c) => c.trim());
      const ns = [...names!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      const cs = cpus!.split(',').map((c) => Number(c.trim()));
      expect(cs.length, line).toBe(ns.length);
      ns.forEach((n, i) => (rows[n] = { profile: profile!.split(' ')[0]!, cpus: cs[i]! }));
    }
    expect(rows).toEqual(EXPECTED);
  });

  test.each(NAMES)('%s: arch profile, CPU count, memory and storage', (name) => {
    const m = getMachine(name);
    expect(m.name).toBe(name);
    expect(m.profile).toBe(EXPECTED[name]!.profile);
    expect(machineCpus(m)).toBe(EXPECTED[name]!.cpus);
    // The profile exists and belongs to the machine's --arch.
    expect(ARCHES[m.profile]).toBeDefined();
    expect(getArch(m.profile).name).toBe(m.arch);
    expect(m.memoryBytes).toBeGreaterThanOrEqual(4 * 2 ** 30);
    expect(m.ioLatencyNs).toBeGreaterThan(0);
    // Cost overrides only name costs the arch has.
    for (const k of Object.keys(m.costs ?? {})) expect(getArch(m.profile).costs).toHaveProperty(k);
  });

  test('the presets of before the machine files load from machines/*.json unchanged (fixtures/machines/presets-before-files.json)', () => {
    const before = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'machines', 'presets-before-files.json'), 'utf8')) as Record<string, Machine>;
    expect(Object.keys(before).length).toBe(10);
    for (const [name, old] of Object.entries(before)) {
      const { sources, file, ...m } = getMachine(name);
      expect(m, name).toEqual(old);
      expect(file).toBe(`machines/${name}.json`);
      expect(Object.keys(sources ?? {}).length, name).toBeGreaterThan(3);
    }
  });

  test('the CCX presets: Rome 4 cores an L3, Genoa 8, with a same-L3 latency below the socket\'s', () => {
    for (const [name, group] of [['rome-2s256', 4], ['genoa-2s384', 8]] as const) {
      const m = getMachine(name);
      expect(m.topology.coresPerL3).toBe(group);
      const t = new Topology(m.topology, { ...getArch(m.profile).lineLatencies, ...m.lineLatencies });
      expect(t.l3s).toBe((2 * m.topology.coresPerSocket) / group);
      expect(m.lineLatencies!.l3!).toBeLessThan(m.lineLatencies!.socket!);
      expect(t.latency(0, 1)).toBe(m.lineLatencies!.l3);
      expect(t.latency(0, group)).toBe(m.lineLatencies!.socket);
      expect(t.latency(0, m.topology.coresPerSocket)).toBe(m.lineLatencies!.remote);
    }
  });

  test('an unknown machine is a config error naming the known ones', () => {
    expect(() => getMachine('vax')).toThrow(ConfigError);
    expect(() => getMachine('vax')).toThrow(/unknown machine 'vax'.*skl-4s192/);
  });

  test('a generic machine: one socket, no SMT, the CPUs asked for', () => {
    const m = genericMachine('arm64', 'arm64', 12);
    expect(machineCpus(m)).toBe(12);
    expect(m.topology).toEqual({ sockets: 1, coresPerSocket: 12, threadsPerCore: 1 });
  });

  test('the x86 KVM guest makes IPIs and wake-ups dearer than bare metal', () => {
    const vm = archOf(getMachine('x86-vm16')).costs;
    const metal = archOf(getMachine('skl-4s192')).costs;
    expect(vm.ipiRoundTripNs).toBeGreaterThan(metal.ipiRoundTripNs);
    expect(vm.wakeupNs).toBeGreaterThan(metal.wakeupNs);
  });

  test.each(Object.keys(ARCHES))('arch profile %s: a positive ttwuNs, the waker\'s share of a wake-up (below wakeupNs)', (name) => {
    const c = getArch(name).costs;
    expect(Number.isFinite(c.ttwuNs)).toBe(true);
    expect(c.ttwuNs).toBeGreaterThan(0);
    expect(c.ttwuNs).toBeLessThan(c.wakeupNs);
  });

  test('x86-vm16 resolves to the KVM ttwuNs (the reschedule IPI exits), above bare-metal x86', () => {
    const kvm = MACHINES['x86-vm16']!.costs?.ttwuNs;
    expect(kvm).toBeDefined();
    expect(kvm).toBeGreaterThan(getArch('x86').costs.ttwuNs);
    // The costs a run uses: the machine's overrides on top of its arch profile.
    const vm = prepareRun('ebizzy', [], { machine: 'x86-vm16' }).arch.costs;
    expect(vm.ttwuNs).toBe(kvm);
    expect(vm.wakeupNs).toBe(MACHINES['x86-vm16']!.costs?.wakeupNs);
    // The default machine is the KVM guest; bare-metal x86 keeps the arch's value.
    expect(DEFAULT_MACHINE).toBe('x86-vm16');
    expect(prepareRun('ebizzy', [], {}).arch.costs.ttwuNs).toBe(kvm);
    expect(prepareRun('ebizzy', [], { machine: 'skl-4s192' }).arch.costs.ttwuNs).toBe(getArch('x86').costs.ttwuNs);
    expect(archOf(getMachine('x86-vm16')).costs.ttwuNs).toBe(kvm);
  });
});

describe('topology', () => {
  test('skl-4s192: 192 CPUs on 4 sockets of 24 cores x 2 threads', () => {
    const m = getMachine('skl-4s192');
    const topo = new Topology(m.topology, { ...getArch('x86').lineLatencies, ...m.lineLatencies });
    expect(topo.ncpus).toBe(192);
    expect(topo.sockets).toBe(4);
    const perSocket = new Map<number, number>();
    for (let cpu = 0; cpu < 192; cpu++) perSocket.set(topo.socketOf[cpu]!, (perSocket.get(topo.socketOf[cpu]!) ?? 0) + 1);
    expect([...perSocket.entries()].sort((a, b) => a[0] - b[0])).toEqual([[0, 48], [1, 48], [2, 48], [3, 48]]);
    expect(new Set(topo.coreOf).size).toBe(96);
    // Siblings last, as Xeon servers number them: CPUs 0-95 are the 96 cores' first threads
    // (socket 0: 0-23), 96-191 their second threads; CPU 0's sibling is 96.
    const lat = { ...getArch('x86').lineLatencies, ...m.lineLatencies };
    expect(topo.latency(0, 96)).toBe(lat.smt);
    expect(topo.latency(0, 1)).toBe(lat.socket);
    expect(topo.latency(0, 23)).toBe(lat.socket);
    expect(topo.latency(0, 24)).toBe(lat.remote);
    expect(topo.latency(0, 119)).toBe(lat.socket); // core 23's second thread, socket 0
    expect(topo.latency(0, 120)).toBe(lat.remote); // core 24's second thread, socket 1
    // The first 96 CPUs are 96 different cores: 96 pinned threads share no core.
    expect(new Set(Array.from(topo.coreOf.slice(0, 96))).size).toBe(96);
    expect(topo.latency(47, 191)).toBe(lat.remote);
    expect(topo.latency(-1, 5)).toBe(lat.memory);
    expect(topo.latency(7, 7)).toBe(lat.local);
  });

  test.each(NAMES)('%s: the topology covers every CPU once', (name) => {
    const m = getMachine(name);
    const topo = new Topology(m.topology, getArch(m.profile).lineLatencies);
    expect(topo.ncpus).toBe(machineCpus(m));
    expect(topo.sockets).toBe(m.topology.sockets);
    expect(new Set(topo.coreOf).size).toBe(m.topology.sockets * m.topology.coresPerSocket);
  });
});

describe('every machine preset runs a workload', () => {
  /** Four threads (or as many as the machine has CPUs) write 1 MiB each, then a file is read. */
  const SMALL = proc(
    'a = mmap 4M',
    'threads min(4, $ncpus) {',
    '  touch a write offset $tid * 1M length 1M count w',
    '}',
    'let n = pages(a)',
    'count np n',
    'munmap a',
    'f = mmap 64K r file "/data/m"',
    'touch f read length 4K',
  );

  test.each(NAMES)('%s', (name) => {
    const m = getMachine(name);
    const r = runMm(SMALL, { machine: name, ncpus: machineCpus(m), keep: false });
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.signals).toEqual([]);
    const pages = r.counters.get('np')!;
    expect(pages).toBe((4 * 2 ** 20) / 2 ** getArch(m.profile).pageShift);
    // One MiB per thread: all four on a machine of four CPUs or more.
    const written = (pages * Math.min(4, machineCpus(m))) / 4;
    expect(r.counters.get('w')).toBe(written);
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(written + 1);
    expect(total(r, EV.PGMAJFAULT)).toBe(1);
    // The file read waited for the machine's storage.
    expect(r.elapsedNs).toBeGreaterThan(m.ioLatencyNs);
    expect(r.threads.length).toBe(1 + Math.min(4, machineCpus(m)));
    // Everything is freed but the file's page cache, which outlives the run: the whole 64 KiB
    // file (the 128 KiB read-around window is clipped at its end).
    expect(faults(r).alloc - faults(r).free).toBe(pages / 64);
  });

  test('being a guest is the machine\'s: the guest presets pay VM exits, their bare-metal twins do not', () => {
    const guests = NAMES.filter((n) => getMachine(n).guest);
    expect(guests.sort()).toEqual(['arm64-vm', 'x86-pvm2', 'x86-vm16']);
    const vm = getMachine('x86-vm16');
    const metal = getMachine('x86-16');
    expect(metal.topology).toEqual(vm.topology);
    expect(vm.costs?.wakeupNs).toBeGreaterThan(0);
    expect(metal.costs).toBeUndefined();
    for (const n of NAMES) if (!getMachine(n).guest) expect(getMachine(n).costs?.ipiRoundTripNs, n).toBeUndefined();
  });
});

describe('reshapeMachine and shapeText (topology flags)', () => {
  test('replace only the counts given; everything else of the machine kept', () => {
    const e5 = getMachine('e5-2690v3');
    expect(reshapeMachine(e5, {})).toBe(e5);
    const r = reshapeMachine(e5, { sockets: 1, threadsPerCore: 1 });
    expect(r.topology).toEqual({ sockets: 1, coresPerSocket: 12, threadsPerCore: 1, siblingsLast: true });
    expect(machineCpus(r)).toBe(12);
    expect({ ...r, topology: e5.topology }).toEqual(e5);
  });

  test('a reshaped machine builds the topology Linux would number: siblings last, sockets apart', () => {
    const r = reshapeMachine(getMachine('skl-4s192'), { sockets: 2, coresPerSocket: 2 });
    const t = new Topology(r.topology, { local: 1, smt: 2, socket: 3, remote: 4, memory: 5 });
    expect(t.ncpus).toBe(8);
    expect(Array.from(t.socketOf)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(t.latency(0, 4)).toBe(2); // SMT siblings: cpu 0 and 4 share core 0
    expect(t.latency(0, 2)).toBe(4);
  });

  test('shapeText says sockets x cores x threads, singular for one', () => {
    expect(shapeText(getMachine('skl-4s192').topology)).toBe('4 sockets x 24 cores x 2 threads');
    expect(shapeText(getMachine('msm845').topology)).toBe('1 socket x 8 cores x 1 thread');
  });
});
