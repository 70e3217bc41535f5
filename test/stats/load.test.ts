import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRun, loadRunSummary } from '../../src/stats/load.js';
import { UsageError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'spfperf-load-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const description = {
  spfperf: '0.1.0',
  format: 1,
  workload: { name: 'ebizzy', file: 'workloads/ebizzy.spf', args: ['threads=2'], params: { ncpus: 2, seed: 1, threads: 2 } },
  arch: 'x86',
  machine: 'x86-vm16',
  cpus: 2,
  config: { label: 'base', sources: ['base'], settings: {} },
  seeds: [1],
};
const values = { elapsed: 0.5, user: 0.1, sys: 0.4, counters: { 'page-faults': 100 }, vmstat: { pgfault: 100 }, metrics: { 'records/s': { value: 12, unit: '' } } };

async function failure(p: string): Promise<string> {
  const e = await loadRunSummary(p).then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(UsageError);
  return (e as Error).message;
}

describe('loading diff inputs', () => {
  it('reads a --save document', async () => {
    const p = file('a.json', JSON.stringify({ ...description, ...values, runs: [] }, null, 2));
    const r = await loadRunSummary(p);
    expect(r.workload.name).toBe('ebizzy');
    expect(r.counters['page-faults']).toBe(100);
    expect(r.metrics['records/s'].value).toBe(12);
  });

  it('reads a record trace: the header line and the last summary line', async () => {
    const lines = [
      JSON.stringify({ type: 'header', trace_format: 1, ...description, config: { label: 'dufour-v11', sources: ['spf'], settings: {} } }),
      JSON.stringify({ type: 'sample', ts: 1, cpu: 0, pid: 1000, tid: 1001, comm: 'ebizzy', event: 'faults' }),
      JSON.stringify({ type: 'sample', ts: 2, cpu: 0, pid: 1000, tid: 1001, comm: 'ebizzy', event: 'faults', note: 'not a "summary" line' }),
      JSON.stringify({ type: 'summary', seed: 1, ...values, counters: { 'page-faults': 2 } }),
    ];
    const r = await loadRunSummary(file('r.ndjson', lines.join('\n') + '\n'));
    expect(r.config.label).toBe('dufour-v11');
    expect(r.counters['page-faults']).toBe(2);
    expect(r.elapsed).toBe(0.5);
    expect((r as unknown as Record<string, unknown>).type).toBeUndefined();
  });

  it('one-line errors that name the file', async () => {
    expect(await failure(join(dir, 'missing.json'))).toBe(`cannot read '${join(dir, 'missing.json')}': no such file`);
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    expect(await failure(sub)).toBe(`cannot read '${sub}': is a directory`);
    const junk = file('junk.txt', 'hello\nworld\n');
    expect(await failure(junk)).toBe(`'${junk}' is not an spfperf --save file or record trace`);
    const other = file('other.json', JSON.stringify({ counters: {} }));
    expect(await failure(other)).toMatch(/is not an spfperf --save file/);
    const cut = file('cut.ndjson', JSON.stringify({ type: 'header', trace_format: 1, ...description }) + '\n' + JSON.stringify({ type: 'sample' }) + '\n');
    expect(await failure(cut)).toBe(`'${cut}' has no summary line (the recording did not finish)`);
    const newer = file('newer.json', JSON.stringify({ ...description, ...values, format: 99 }));
    expect(await failure(newer)).toMatch(/has format 99, newer than this spfperf reads \(1\)/);
    const v2 = file('v2.ndjson', JSON.stringify({ type: 'header', trace_format: 2, ...description }) + '\n');
    expect(await failure(v2)).toBe(`${v2}: trace format 2 is not one this spfperf reads (it reads format 1)`);
    for (const m of [await failure(junk), await failure(cut)]) expect(m.split('\n')).toHaveLength(1);
  });
});

describe('loadRun: a saved run with each of its runs (plot)', () => {
  it('each run of a --save document, under its own seed; a document without runs is one run', async () => {
    const runs = [
      { seed: 1, ...values, elapsed: 0.4 },
      { seed: 2, ...values, elapsed: 0.6 },
    ];
    const r = await loadRun(file('runs.json', JSON.stringify({ ...description, seeds: [1, 2], ...values, runs })));
    expect(r.summary.seeds).toEqual([1, 2]);
    expect(r.runs.map((x) => [x.seeds, x.elapsed, x.workload.name])).toEqual([
      [[1], 0.4, 'ebizzy'],
      [[2], 0.6, 'ebizzy'],
    ]);
    const none = await loadRun(file('none.json', JSON.stringify({ ...description, ...values, runs: [] })));
    expect(none.runs).toEqual([none.summary]);
  });

  it('a run of the wrong shape: the file and the run named', async () => {
    const p = file('bad-run.json', JSON.stringify({ ...description, ...values, runs: [{ seed: 1, ...values, elapsed: 'soon' }] }));
    await expect(loadRun(p)).rejects.toThrow(`${p}: runs[0]: summary field 'elapsed' is the string "soon", not a number`);
    // diff reads the means alone: the same file is fine there.
    expect((await loadRunSummary(p)).elapsed).toBe(0.5);
  });
});
