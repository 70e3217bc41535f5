import { cpSync, existsSync, linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

/** A copy of a fixture sweep in a fresh directory (tests may break it). */
function sweepCopy(name = 'page_fault1'): string {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-plot-'));
  cpSync(join(ROOT, 'fixtures', 'sweep', name), join(dir, 's'), { recursive: true });
  return dir;
}

describe('spfperf plot', () => {
  test('writes the SVG and, beside it, the vega-lite spec with the data; says so on stderr', async () => {
    const dir = sweepCopy();
    const r = await spfperf(['plot', 's/sweep.json', '-o', 'pf1.svg'], { cwd: dir });
    expect(r).toMatchObject({ status: 0, stdout: '' });
    expect(r.stderr).toMatch(/^spfperf plot: wrote pf1\.svg \(\d+x\d+: 3 lines, 1 panel\) and its vega-lite spec pf1\.vl\.json\n$/);
    const svg = readFileSync(join(dir, 'pf1.svg'), 'utf8');
    expect(svg).toBe(readFileSync(join(ROOT, 'fixtures', 'golden', 'plot', 'page_fault1.svg'), 'utf8'));
    expect(readFileSync(join(dir, 'pf1.vl.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'fixtures', 'golden', 'plot', 'page_fault1.vl.json'), 'utf8'));
  });

  test('a .png: a PNG at twice the SVG size; the sweep given as its directory; default output plot.svg', async () => {
    const dir = sweepCopy();
    const r = await spfperf(['plot', 's', '-o', 'out.png'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const m = /wrote out\.png \((\d+)x(\d+) pixels: 3 lines, 1 panel\)/.exec(r.stderr)!;
    const png = readFileSync(join(dir, 'out.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Number(m[1]), Number(m[2])]);
    const svg = readFileSync(join(ROOT, 'fixtures', 'golden', 'plot', 'page_fault1.svg'), 'utf8');
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    expect([Number(m[1]), Number(m[2])]).toEqual([2 * Number(w), 2 * Number(h)]);
    expect(existsSync(join(dir, 'out.vl.json'))).toBe(true);
    const d = await spfperf(['plot', 's/sweep.json'], { cwd: dir });
    expect(d.status, d.stderr).toBe(0);
    expect(existsSync(join(dir, 'plot.svg')) && existsSync(join(dir, 'plot.vl.json'))).toBe(true);
  });

  test('--y an event, --normalize: the y title says what; left-out runs are counted on stderr', async () => {
    const dir = sweepCopy();
    const r = await spfperf(['plot', 's', '--y', 'vmstat:speculative_pgfault', '-o', 'spf.svg'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('spfperf plot: 16 run(s) left out: no vmstat:speculative_pgfault there\n');
    expect(r.stderr).toContain(': 1 line, 1 panel)');
    const n = await spfperf(['plot', 's', '--y', 'faults', '--normalize', 'base', '-o', 'n.svg'], { cwd: dir });
    expect(n.status, n.stderr).toBe(0);
    expect(readFileSync(join(dir, 'n.svg'), 'utf8')).toContain('>page-faults, relative to base<');
  });

  test('usage errors: one line, exit 1', async () => {
    const dir = sweepCopy();
    const run = (...a: string[]) => spfperf(['plot', ...a], { cwd: dir });
    expect(await run('nowhere.json')).toEqual({ status: 1, stdout: '', stderr: "spfperf: cannot read 'nowhere.json': No such file or directory\n" });
    const y = await run('s', '--y', 'bogus');
    expect(y.status).toBe(1);
    expect(y.stderr).toMatch(/^spfperf: --y: 'bogus' is not counted in this sweep; it has: workload:ops\/s, task-clock, page-faults, [^\n]*, elapsed, user, sys\n$/);
    expect(await run('s', '--x', 'threads')).toEqual({ status: 1, stdout: '', stderr: "spfperf: --x: no axis 'threads' in the sweep; its axes: machine, config, cpus, size\n" });
    expect(await run('s', '--normalize', 'spf')).toEqual({ status: 1, stdout: '', stderr: "spfperf: --normalize: 'spf' is not a config of the sweep; its configs: base, dufour-v11, per-vma-lock\n" });
    expect(await run('s', '-o', 'out.pdf')).toEqual({ status: 1, stdout: '', stderr: "spfperf: -o: 'out.pdf' must end in .svg or .png (the picture's format)\n" });
  });

  test('refuses to overwrite the sweep index or a point document (a link to one, say)', async () => {
    const dir = sweepCopy();
    const before = readFileSync(join(dir, 's', 'sweep.json'), 'utf8');
    const point = JSON.parse(before).points[5].file as string;
    symlinkSync(join('s', 'sweep.json'), join(dir, 'evil.vl.json'));
    linkSync(join(dir, 's', point), join(dir, 'hard.png'));
    expect(await spfperf(['plot', 's', '-o', 'evil.svg'], { cwd: dir })).toEqual({
      status: 1,
      stdout: '',
      stderr: "spfperf: the spec beside the picture: 'evil.vl.json' is the sweep index ('s/sweep.json'); refusing to overwrite an input\n",
    });
    expect(await spfperf(['plot', 's', '-o', 'hard.png'], { cwd: dir })).toEqual({
      status: 1,
      stdout: '',
      stderr: `spfperf: option '-o': 'hard.png' is the document of point 5 ('s/${point}'); refusing to overwrite an input\n`,
    });
    expect(readFileSync(join(dir, 's', 'sweep.json'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'evil.svg'))).toBe(false);
  });

  test('a sweep.json that is not JSON: file:line:col, exit 2; a bad field: its JSON path, exit 2', async () => {
    const dir = sweepCopy();
    const index = join(dir, 's', 'sweep.json');
    const text = readFileSync(index, 'utf8');
    writeFileSync(index, text.replace('"repeats": 2,', '"repeats": 2,,'));
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"repeats": 2,')) + 1;
    const col = lines[line - 1].indexOf('"repeats": 2,') + '"repeats": 2,'.length + 1;
    expect(await spfperf(['plot', 's'], { cwd: dir })).toEqual({ status: 2, stdout: '', stderr: `spfperf: s/sweep.json:${line}:${col}: expected a property name in double quotes, found ','\n` });
    const doc = JSON.parse(text);
    doc.points[3].coords.cpus = 3;
    writeFileSync(index, JSON.stringify(doc));
    expect(await spfperf(['plot', 's'], { cwd: dir })).toEqual({ status: 2, stdout: '', stderr: "spfperf: s/sweep.json: points[3].coords.cpus: expected one of the axis' values (1, 2, 4, 8), found number 3\n" });
    doc.points[3].coords.cpus = 8;
    rmSync(join(dir, 's', doc.points[2].file));
    writeFileSync(index, JSON.stringify(doc));
    expect(await spfperf(['plot', 's'], { cwd: dir })).toEqual({ status: 2, stdout: '', stderr: `spfperf: s/sweep.json: points[2] (${doc.points[2].file}): cannot read 's/${doc.points[2].file}': no such file\n` });
  });
});
