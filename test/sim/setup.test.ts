import { describe, expect, test } from 'vitest';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { runWorkload } from '../../src/sim/run.js';
import { Engine } from '../../src/engine/engine.js';

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
