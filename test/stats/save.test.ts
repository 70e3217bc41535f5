import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricValue, secondsOf } from '../../src/stats/save.js';
import { internWord } from '../../src/workload/expr.js';
import { spfperf } from '../helpers/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'spfperf-save-'));
const PF3 = ['--cpus', '2', 'page_fault3', 'threads=2', 'iterations=2', 'size=256K'];

/** Every number written in a JSON text, as written. */
const numbersIn = (json: string): string[] => json.match(/(?<=[:,[]\s*)-?\d+(\.\d+)?(e[-+]?\d+)?(?=\s*[,}\]])/g) ?? [];
const decimals = (n: string): number => (n.includes('.') ? n.split('.')[1].replace(/e.*/, '').length : 0);

describe('summary numbers without float noise (issue 13 item 7)', () => {
  it('secondsOf() keeps the ns and no more; metricValue() 9 significant digits', () => {
    expect(secondsOf(6120915.83999295)).toBe(0.006120916);
    expect(String(secondsOf(1234567891))).toBe('1.234567891');
    expect(metricValue(16333.333333333334)).toBe(16333.3333);
    expect(metricValue(23500)).toBe(23500);
    expect(metricValue(NaN)).toBeNaN();
  });

  it('a record summary: seconds to the ns, counters (task-clock in ns) whole, the metric to 9 digits', async () => {
    const r = await spfperf(['record', '-o', '-', '-e', 'faults', '--cpus', '2', 'ebizzy', 'threads=2', 'seconds=0.001s']);
    expect(r.status).toBe(0);
    const line = r.stdout.trim().split('\n').at(-1)!;
    const s = JSON.parse(line) as Record<string, unknown>;
    for (const k of ['elapsed', 'user', 'sys']) expect(decimals(String(s[k])), k).toBeLessThanOrEqual(9);
    for (const [k, v] of Object.entries({ ...(s.counters as object), ...(s.vmstat as object) })) expect(Number.isInteger(v), k).toBe(true);
    expect((s.counters as Record<string, number>)['task-clock']).toBeGreaterThan(1e5);
    for (const n of numbersIn(line)) expect(decimals(n), n).toBeLessThanOrEqual(9);
  });

  it('a --save document: each run as a summary, the means of counts to 3 decimals, seconds to the ns', async () => {
    const dir = tmp();
    const r = await spfperf(['stat', '-r', '3', '--save', 's.json', '-e', 'faults', '--cpus', '2', 'ebizzy', 'threads=2', 'seconds=0.001s'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 's.json'), 'utf8');
    const doc = JSON.parse(text) as { counters: Record<string, number>; elapsed: number; runs: { counters: Record<string, number>; elapsed: number }[] };
    for (const run of doc.runs) for (const [k, v] of Object.entries(run.counters)) expect(Number.isInteger(v), k).toBe(true);
    for (const [k, v] of Object.entries(doc.counters)) expect(decimals(String(v)), k).toBeLessThanOrEqual(3);
    // Means that are not whole (3 runs of different counts) are there, or the check says little.
    expect(Object.values(doc.counters).some((v) => !Number.isInteger(v))).toBe(true);
    const clocks = doc.runs.map((x) => x.counters['task-clock']);
    expect(doc.counters['task-clock']).toBeCloseTo(clocks.reduce((a, b) => a + b) / 3, 2);
    for (const n of numbersIn(text)) expect(decimals(n), n).toBeLessThanOrEqual(9);
  });
});

describe('word parameters written as words (issue 13 item 7)', () => {
  it('a trace header and a --save document hold "mode": "processes", not the number it is interned to', async () => {
    const dir = tmp();
    const r = await spfperf(['record', '-o', 't.ndjson', '-e', 'faults', ...PF3, 'mode=processes'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const header = JSON.parse(readFileSync(join(dir, 't.ndjson'), 'utf8').split('\n')[0]);
    expect(header.workload.params.mode).toBe('processes');
    expect(header.workload.params.threads).toBe(2);
    expect((await spfperf(['stat', '--save', 's.json', '-e', 'faults', ...PF3], { cwd: dir })).status).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'));
    expect(doc.workload.params.mode).toBe('threads'); // the default, a word too
    expect(doc.workload.params.size).toBe(262144);
  });

  it('diff reads an older file (the interned number) as the same word; a different word is still a difference', async () => {
    const dir = tmp();
    for (const [f, extra] of [['t.json', []], ['p.json', ['mode=processes']]] as const) {
      expect((await spfperf(['stat', '--save', f, '-e', 'faults', ...PF3, ...extra], { cwd: dir })).status).toBe(0);
    }
    const old = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8'));
    old.workload.params.mode = internWord('threads');
    writeFileSync(join(dir, 'old.json'), JSON.stringify(old, null, 2));
    const same = await spfperf(['diff', 'old.json', 't.json'], { cwd: dir });
    expect(same.status, same.stderr).toBe(0);
    expect(same.stdout).not.toContain('parameter mode');
    const other = await spfperf(['diff', 'old.json', 'p.json'], { cwd: dir });
    expect(other.status).toBe(0);
    // No column holds the old file's word: its number is shown as it is written.
    expect(other.stdout).toContain(`#   parameter mode: ${internWord('threads')} (old.json), processes (p.json)\n`);
  });

  it('report and script still read a trace whose header holds the interned number', async () => {
    const dir = tmp();
    expect((await spfperf(['record', '-o', 't.ndjson', '-e', 'faults', ...PF3], { cwd: dir })).status).toBe(0);
    const lines = readFileSync(join(dir, 't.ndjson'), 'utf8').split('\n');
    const h = JSON.parse(lines[0]);
    h.workload.params.mode = internWord('threads');
    writeFileSync(join(dir, 'old.ndjson'), [JSON.stringify(h), ...lines.slice(1)].join('\n'));
    for (const cmd of [['report', '--stdio'], ['script']]) {
      const a = await spfperf([...cmd, '-i', 'old.ndjson'], { cwd: dir });
      const b = await spfperf([...cmd, '-i', 't.ndjson'], { cwd: dir });
      expect(a.status, a.stderr).toBe(0);
      expect(a.stdout).toBe(b.stdout);
    }
  });
});

describe('a reshaped machine (topology flags, issue 16)', () => {
  it('--save keeps the shape only when reshaped; diff says when two runs differ in it', async () => {
    const dir = tmp();
    const W = ['--machine', 'e5-2690v3', '--cpus', '4', 'page_fault1', 'threads=4', 'iterations=1', 'size=64K'];
    expect((await spfperf(['stat', '-e', 'faults', '--save', 'own.json', ...W], { cwd: dir })).status).toBe(0);
    expect((await spfperf(['stat', '-e', 'faults', '--save', 'one.json', '--sockets', '1', ...W], { cwd: dir })).status).toBe(0);
    const own = JSON.parse(readFileSync(join(dir, 'own.json'), 'utf8'));
    const one = JSON.parse(readFileSync(join(dir, 'one.json'), 'utf8'));
    expect(own.topology).toBeUndefined();
    expect(one.topology).toBe('1 socket x 12 cores x 2 threads');
    expect(one.machine).toBe('e5-2690v3');
    const d = await spfperf(['diff', join(dir, 'own.json'), join(dir, 'one.json')]);
    expect(d.status).toBe(0);
    expect(d.stdout).toContain("#   topology: the machine's own (own.json), 1 socket x 12 cores x 2 threads (one.json)");
  });
});
