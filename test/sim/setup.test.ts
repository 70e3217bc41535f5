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
