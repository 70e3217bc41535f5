import { describe, expect, test } from 'vitest';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { runWorkload } from '../../src/sim/run.js';
import { Engine } from '../../src/engine/engine.js';
import { UsageError } from '../../src/errors.js';

describe('--check', () => {
  test('turns the sync check on for the run; without it the engine default applies', () => {
    const on = runOptionsOf(prepareRun('page_fault1', ['threads=2', 'iterations=1', 'size=256K'], { cpus: '2', check: true }));
    expect(on.checkSync).toBe(true);
    const off = runOptionsOf(prepareRun('page_fault1', ['threads=2', 'iterations=1', 'size=256K'], { cpus: '2' }));
    expect(off.checkSync).toBeUndefined();
    // The run's engine gets it.
    let seen: boolean | undefined;
    runWorkload({
      ...on,
      spf: (eng: Engine) => {
        seen = eng.checkSync;
        return on.spf!(eng);
      },
    });
    expect(seen).toBe(true);
  });
});

describe('--arch without --machine', () => {
  test('is a bare-metal machine of that arch, x86 included; no flags at all is the x86-vm16 guest', () => {
    for (const arch of ['x86', 'arm64', 'powerpc']) {
      const p = prepareRun('page_fault1', ['threads=1', 'iterations=1', 'size=64K'], { arch });
      expect(p.machine.guest, arch).toBe(false);
      expect(p.machine.name).toBe(`${arch}-generic`);
      expect(p.machine.costs).toBeUndefined();
    }
    const d = prepareRun('page_fault1', ['threads=1', 'iterations=1', 'size=64K'], {});
    expect(d.machine.name).toBe('x86-vm16');
    expect(d.machine.guest).toBe(true);
  });
});

describe('topology flags and --cpus (issue 16, item 2)', () => {
  const W = ['page_fault1', ['threads=1', 'iterations=1', 'size=64K']] as const;
  const prep = (o: Parameters<typeof prepareRun>[2]) => prepareRun(W[0], W[1], o);

  test('--sockets/--cores-per-socket/--threads-per-core reshape the preset, its memory, costs and numbering kept', () => {
    const skl = prep({ machine: 'skl-4s192' });
    const p = prep({ machine: 'skl-4s192', sockets: '2', coresPerSocket: '28' });
    expect(p.machine.topology).toEqual({ sockets: 2, coresPerSocket: 28, threadsPerCore: 2, siblingsLast: true });
    expect(p.ncpus).toBe(112);
    expect(p.machine.memoryBytes).toBe(skl.machine.memoryBytes);
    expect(p.machine.lineLatencies).toEqual(skl.machine.lineLatencies);
    expect(p.machine.ioLatencyNs).toBe(skl.machine.ioLatencyNs);
    const vm = prep({ threadsPerCore: '2' });
    expect(vm.machine.name).toBe('x86-vm16');
    expect(vm.ncpus).toBe(32);
    expect(vm.arch.costs.ipiRoundTripNs).toBe(prep({}).arch.costs.ipiRoundTripNs);
  });

  test('--cpus takes the first N CPUs of the (reshaped) machine', () => {
    expect(prep({ machine: 'skl-4s192', cpus: '96' }).ncpus).toBe(96);
    const p = prep({ machine: 'skl-4s192', sockets: '5', cpus: '200' });
    expect(p.ncpus).toBe(200);
    expect(p.machine.topology.sockets).toBe(5);
  });

  test('--cpus above the machine is a one-line usage error naming the machine, its shape and the flags', () => {
    expect(() => prep({ machine: 'skl-4s192', cpus: '200' })).toThrow(
      "option '--cpus': 200 is more than the 192 CPUs of skl-4s192 (4 sockets x 24 cores x 2 threads); give --sockets, --cores-per-socket, --threads-per-core to reshape it",
    );
    expect(() => prep({ cpus: '17' })).toThrow(/17 is more than the 16 CPUs of x86-vm16 \(1 socket x 16 cores x 1 thread\)/);
    expect(() => prep({ machine: 'e5-2690v3', threadsPerCore: '1', cpus: '25' })).toThrow(/24 CPUs of e5-2690v3 as reshaped \(2 sockets x 12 cores x 1 thread\)/);
    expect(() => prep({ machine: 'skl-4s192', cpus: '200' })).toThrow(UsageError);
  });

  test('a reshaped machine over the CPU limit and bad flag values are usage errors', () => {
    expect(() => prep({ sockets: '64', coresPerSocket: '32' })).toThrow(/x86-vm16 reshaped to 64 sockets x 32 cores x 1 thread has 2048 CPUs, more than 1024/);
    expect(() => prep({ sockets: '0' })).toThrow(/option '--sockets': 0 is out of range/);
    expect(() => prep({ coresPerSocket: 'x' })).toThrow(/option '--cores-per-socket': 'x' is not a whole number/);
  });

  test('--arch alone: --cpus above 16 builds that many one-socket cores; up to 16 the machine of today', () => {
    const big = prep({ arch: 'arm64', cpus: '40' });
    expect(big.ncpus).toBe(40);
    expect(big.machine.topology).toEqual({ sockets: 1, coresPerSocket: 40, threadsPerCore: 1 });
    const small = prep({ arch: 'arm64', cpus: '4' });
    expect(small.machine).toEqual(prep({ arch: 'arm64' }).machine);
    expect(small.ncpus).toBe(4);
    // With a shape given, the generic machine is reshaped like a preset and refuses more.
    expect(() => prep({ arch: 'x86', sockets: '1', cpus: '40' })).toThrow(/40 is more than the 16 CPUs of x86-generic as reshaped/);
  });
});
