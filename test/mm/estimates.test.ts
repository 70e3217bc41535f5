import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { kernelEstimates, type KernelEstimates } from '../../src/mm/estimates.js';
import { perturbation } from '../../src/config/constants.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { runWorkload } from '../../src/sim/run.js';

describe('kernel estimates', () => {
  test('each is scaled by its own factor only', () => {
    const one = kernelEstimates();
    const scaled = kernelEstimates((n) => (n === 'SRCU_READ_NS' ? 4 : 1));
    for (const k of Object.keys(one) as (keyof KernelEstimates)[]) {
      expect(scaled[k], k).toBe(k === 'SRCU_READ_NS' ? one[k] * 4 : one[k]);
    }
  });

  // Dirty pages of a file on disk (shmem is not dirty-accounted): the throttling path runs.
  const dirtyDisk = join(mkdtempSync(join(tmpdir(), 'spfperf-est-')), 'dirty-disk.spf');
  writeFileSync(dirtyDisk, 'process {\n  buf = mmap 4M rw shared file "/var/lib/data"\n  touch buf write seq count pages\n  munmap buf\n}\n');

  // Each estimate, perturbed x8, moves the system time of a small run whose path pays it: the
  // run reads it from its Kernel, not from a module constant.
  const cases: [keyof KernelEstimates, string, string[], string[]][] = [
    ['SRCU_READ_NS', 'page_fault1', ['dufour-srcu'], ['threads=2', 'size=256K', 'iterations=1']],
    ['FREE_VMA_NS', 'page_fault1', ['dufour-v11'], ['threads=2', 'size=256K', 'iterations=2']],
    ['VMA_COPY_NS', 'page_fault1', ['lespinasse'], ['threads=2', 'size=256K', 'iterations=1']],
    ['CALL_RCU_NS', 'page_fault1', ['per-vma-lock'], ['threads=2', 'size=256K', 'iterations=2']],
    ['DIRTY_RATELIMIT_NS', dirtyDisk, ['base'], []],
    ['BALANCE_DIRTY_NS', dirtyDisk, ['base'], []],
  ];
  test.each(cases)('%s moves a run of %s under %s', (name, workload, config, params) => {
    const sys = (factor: number) => {
      const prep = prepareRun(workload, params, { cpus: '2', config, ...(factor !== 1 ? { perturb: perturbation([[name, factor]]) } : {}) });
      return runWorkload(runOptionsOf(prep)).sysNs;
    };
    expect(sys(8)).toBeGreaterThan(sys(1));
  });
});
