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
});
