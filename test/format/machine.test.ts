/** One machine as a run builds it (src/format/machine.ts): `spfperf list --machines NAME`. */
import { describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { getMachine, reshapeMachine, type Machine } from '../../src/config/machine.js';
import { cpuList, formatMachine } from '../../src/format/machine.js';

const lat = (m: Machine) => ({ ...getArch(m.profile).lineLatencies, ...m.lineLatencies });

describe('cpuList', () => {
  test('ranges as lscpu lists them', () => {
    expect(cpuList([0, 1, 2, 3, 96, 97, 100])).toBe('0-3,96-97,100');
    expect(cpuList([5])).toBe('5');
    expect(cpuList([])).toBe('');
  });
});

describe('formatMachine', () => {
  test('--cpus 96 on skl-4s192: the first threads of 96 cores, on all four sockets, no SMT sibling', () => {
    const m = getMachine('skl-4s192');
    const text = formatMachine(m, 96, lat(m), '--cpus 96');
    expect(text).toContain('topology:       4 sockets x 24 cores x 2 threads = 192 CPUs; SMT siblings numbered after every core\'s first thread');
    expect(text).toContain('built:          the first 96 of 192 CPUs (--cpus 96)');
    expect(text).toContain('socket 0:       CPUs 0-23: 24 cores x 1 thread');
    expect(text).toContain('socket 3:       CPUs 72-95: 24 cores x 1 thread');
    expect(text).toContain('same socket 70, other socket 140, from memory 90');
  });

  test('a reshaped 2 x 28 x 2 server: each socket its cores and their siblings', () => {
    const m = reshapeMachine(getMachine('skl-4s192'), { sockets: 2, coresPerSocket: 28 });
    const text = formatMachine(m, 112, lat(m), '--sockets 2 --cores-per-socket 28');
    expect(text).toContain('socket 0:       CPUs 0-27,56-83: 28 cores x 2 threads');
    expect(text).toContain('socket 1:       CPUs 28-55,84-111: 28 cores x 2 threads');
    expect(text).toContain('memory:         768 GiB');
  });

  test('POWER numbering: a core\'s threads together; a part-used core and unused sockets said', () => {
    const m = getMachine('p8-80');
    const text = formatMachine(m, 12, lat(m), '--cpus 12');
    expect(text).toContain("a core's threads numbered together");
    expect(text).toContain('socket 0:       CPUs 0-11: 1 core x 8 threads + 1 core x 4 threads');
    expect(text).toContain('unused:         1 socket (no CPU of the run on it)');
    expect(formatMachine(getMachine('x86-pvm2'), 1, lat(getMachine('x86-pvm2')), '')).toContain('socket 0:       CPU 0: 1 core x 1 thread');
  });

  test('an EPYC: each socket\'s L3s (CCXs) with their CPUs, the same-L3 class, the costs it sets, its file', () => {
    const m = getMachine('rome-2s256');
    const text = formatMachine(m, 256, lat(m), '');
    expect(text).toContain('socket 0:       CPUs 0-63,128-191: 64 cores x 2 threads\n    its L3s:      0-3,128-131; 4-7,132-135; ');
    expect(text).toContain('; 60-63,188-191\n  socket 1:');
    expect(text).toContain('L3 (CCX):       4 cores share an L3, 16 L3s a socket; the run\'s CPUs on 32 of 32');
    expect(text).toContain('memory:         512 GiB, 2 NUMA nodes (one a socket)');
    expect(text).toContain('line (ns):      local 2, SMT sibling 8, same L3 30, same socket (other L3) 110, other socket 200, from memory 122');
    expect(text).toContain("costs (ns):     trapEntryNs 60, trapExitNs 40, syscallNs 50; the rest the x86 profile's");
    expect(text).toContain('sources:        machines/rome-2s256.json');
    // Reshaped to 4 cores a socket, a socket is one CCX: its transfers the same-L3 latency.
    const one = reshapeMachine(m, { coresPerSocket: 4 });
    const small = formatMachine(one, 16, lat(one), '--cores-per-socket 4');
    expect(small).not.toContain('its L3s');
    expect(small).toContain('SMT sibling 8, same socket 30, other socket 200');
  });
});

