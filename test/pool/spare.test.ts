import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { prestartWorkers, spareCount } from '../../src/pool/spare.js';
import { mapPool } from '../../src/pool/pool.js';
import { runSpecOf } from '../../src/pool/run-job.js';

const spec = (seed: number) => runSpecOf('page_fault1', ['threads=2', 'iterations=1', 'size=256K'], { cpus: '2', seed: String(seed) });

describe('workers started ahead of their pool', () => {
  test('as many as the pool will want: one fewer than min(jobs, runs), none for a bad --jobs', () => {
    prestartWorkers(4, 'x');
    prestartWorkers(4, '0');
    prestartWorkers(1, '8');
    prestartWorkers(4, '1');
    expect(spareCount()).toBe(0);
    prestartWorkers(2, '8');
    expect(spareCount()).toBe(1);
    prestartWorkers(3, '3'); // one more; the one there counts
    expect(spareCount()).toBe(2);
  });

  test('a pool takes them first, and its results are those of a serial run', async () => {
    prestartWorkers(3, '3');
    expect(spareCount()).toBe(2);
    const specs = [1, 2, 3].map(spec);
    const pooled = await mapPool('run', specs, { jobs: 3 });
    expect(spareCount()).toBe(0);
    expect(pooled.error).toBeUndefined();
    expect(pooled.results).toEqual((await mapPool('run', specs, { jobs: 1 })).results);
  });

  test('spares that no pool takes do not keep the process alive (a command that fails before its pool)', () => {
    const bin = fileURLToPath(new URL('../../bin/spfperf.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'stat', '-r', '4', '--jobs', '3', 'no-such-workload'], { encoding: 'utf8', timeout: 20000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^spfperf: workload 'no-such-workload' not found/);
  });
});
