import { describe, expect, test } from 'vitest';
import { warmUpJit } from '../../src/pool/run-job.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';

describe('warmUpJit(): the pool threads\' tiny first run', () => {
  test('leaves no trace in the runs after it', () => {
    const run = (): RunResult => runWorkload(runOptionsOf(prepareRun('ebizzy', ['threads=4', 'seconds=0.002'], { cpus: '4', config: ['dufour-v11'] })));
    const before = run();
    warmUpJit();
    warmUpJit(); // once a thread: the second call does nothing
    const after = run();
    expect(after.elapsedNs).toBe(before.elapsedNs);
    expect(after.counts.snapshot()).toEqual(before.counts.snapshot());
  });
});
