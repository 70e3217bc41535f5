/**
 * spfperf's limits (src/config/limits.ts; docs/model.md "Limits"), each enforced with the limit
 * named, and no stack overflow where a big array used to be spread into Math.max (issue 13 item 11).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SCRIPT_BYTES, MAX_TASKS } from '../../src/config/limits.js';
import { spfperf } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'spfperf-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('limits', () => {
  it('a task count parameter over MAX_TASKS is refused before the run (exit 1, the limit named)', async () => {
    const r = await spfperf(['stat', 'page_fault1', 'threads=1000000000']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `spfperf: bad value '1000000000' for parameter 'threads' of workload 'page_fault1': 'threads' must be at most ${MAX_TASKS}, spfperf's limit on tasks in a run (the kernel's default pid_max; docs/model.md#limits) (the count of 'fork' at workloads/page_fault1.spf:61:10)\n`,
    );
    expect((await spfperf(['stat', '-e', 'faults', 'page_fault1', `threads=${MAX_TASKS + 1}`])).status).toBe(1);
  });

  it('a script that creates more tasks than MAX_TASKS in all stops with the limit named (exit 1), whatever the counts are written as', async () => {
    const f = join(dir, 'many.spf');
    writeFileSync(f, `process {\n  loop 2 {\n    threads ${MAX_TASKS / 2 + 1} {\n    }\n  }\n}\n`);
    const r = await spfperf(['stat', '-e', 'faults', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`spfperf: workload 'many' creates more than ${MAX_TASKS} tasks, spfperf's limit on tasks in a run (the kernel's default pid_max; docs/model.md#limits)\n`);
  });

  it('a script over MAX_SCRIPT_BYTES is refused before it is read (exit 1)', async () => {
    const f = join(dir, 'big.spf');
    writeFileSync(f, '#'.repeat(MAX_SCRIPT_BYTES + 1));
    const r = await spfperf(['stat', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`spfperf: workload '${f}' is ${MAX_SCRIPT_BYTES + 1} bytes, over spfperf's limit of ${MAX_SCRIPT_BYTES} bytes for a script (docs/model.md#limits)\n`);
  });

  it('report -s tid over 130k threads: no stack overflow (widths and lines are not spread into calls)', async () => {
    const header = readFileSync(join(ROOT, 'fixtures', 'traces', 'ebizzy-faults.ndjson'), 'utf8').split('\n')[0];
    const n = 130_000;
    const out = [header];
    for (let i = 0; i < n; i++) out.push(`{"type":"sample","ts":${i},"cpu":0,"pid":1000,"tid":${2000 + i},"comm":"w","event":"faults"}`);
    const f = join(dir, 'tids.ndjson');
    writeFileSync(f, out.join('\n') + '\n');
    const r = await spfperf(['report', '--stdio', '-s', 'tid', '-i', f]);
    expect(r.status, r.stderr.slice(0, 300)).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^\s+0\.00%\s+\d+:w$/.test(l))).toHaveLength(n);
  });
});
