import { vi } from 'vitest';

// ink decides once, when it is first loaded, whether it runs under CI (is-in-ci), and there it
// draws nothing; the progress test below loads it as a terminal outside CI would (as
// test/ui/live-progress.test.ts does), and the environment is put back afterwards.
const savedCiEnv = vi.hoisted(() => {
  const saved: Record<string, string | undefined> = {};
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  return saved;
});

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spfperf, Capture } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { handOutOrder, run, runLocally, type RunSpecs } from '../../src/commands/sweep.js';
import type { CliIo } from '../../src/io.js';
import { Readable } from 'node:stream';

/** A small sweep: 2 configs x 2 CPU counts, 2 seeds a point, runs short enough for a test. */
const AXES = ['--cpus', '1,2', '--config', 'base,dufour-v11', '-r', '2'];
const WORKLOAD = ['page_fault1', 'size=256K', 'iterations=1'];

afterAll(() => {
  for (const [k, v] of Object.entries(savedCiEnv)) if (v !== undefined) process.env[k] = v;
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'spfperf-sweep-'));

interface Index {
  spfperf_sweep: number;
  spfperf: string;
  workload: { name: string; args: string[] };
  repeats: number;
  axes: { name: string; kind: string; values: (string | number)[] }[];
  points: { index: number; coords: Record<string, string | number>; file: string; stat_args: string[] }[];
  points_planned: number;
  complete: boolean;
}

const index = (dir: string): Index => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as Index;

describe('spfperf sweep', () => {
  it('writes a point per combination and an index of exactly the agreed shape', async () => {
    const dir = join(tmp(), 'out');
    const r = await spfperf(['sweep', '-o', dir, ...AXES, ...WORKLOAD]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ix = index(dir);
    expect(ix).toMatchObject({ spfperf_sweep: 1, spfperf: '0.1.0', workload: { name: 'page_fault1', args: ['size=256K', 'iterations=1'] }, repeats: 2, points_planned: 4, complete: true });
    expect(ix.axes).toEqual([
      { name: 'machine', kind: 'machine', values: ['x86-vm16'] },
      { name: 'config', kind: 'config', values: ['base', 'dufour-v11'] },
      { name: 'cpus', kind: 'cpus', values: [1, 2] },
    ]);
    expect(ix.points.map((p) => [p.index, p.coords, p.file])).toEqual([
      [0, { machine: 'x86-vm16', config: 'base', cpus: 1 }, 'points/0000-x86-vm16-base-1cpus.json'],
      [1, { machine: 'x86-vm16', config: 'base', cpus: 2 }, 'points/0001-x86-vm16-base-2cpus.json'],
      [2, { machine: 'x86-vm16', config: 'dufour-v11', cpus: 1 }, 'points/0002-x86-vm16-dufour-v11-1cpus.json'],
      [3, { machine: 'x86-vm16', config: 'dufour-v11', cpus: 2 }, 'points/0003-x86-vm16-dufour-v11-2cpus.json'],
    ]);
    expect(readdirSync(join(dir, 'points')).sort()).toEqual(ix.points.map((p) => p.file.slice('points/'.length)));
    // Each point's document is that of its own runs: the cpus and config of its coordinates.
    for (const p of ix.points) {
      const doc = JSON.parse(readFileSync(join(dir, p.file), 'utf8')) as { cpus: number; config: { label: string }; seeds: number[] };
      expect([doc.cpus, doc.config.label, doc.seeds]).toEqual([p.coords.cpus, p.coords.config, [1, 2]]);
    }
    expectGolden('sweep/page_fault1.txt', r.stdout);
  });

  it('each point\'s file equals `spfperf stat -r N --save` of the same point, byte for byte', async () => {
    const dir = join(tmp(), 'out');
    expect((await spfperf(['sweep', '-o', dir, '--machine', 'x86-16', '--seed', '7', ...AXES, 'page_fault1', 'size=256K,512K', 'iterations=1'])).status).toBe(0);
    const ix = index(dir);
    expect(ix.points).toHaveLength(8);
    // The param axis: the plain parameter keeps its place after the axis' value.
    expect(ix.points[1].stat_args).toEqual(['-r', '2', '--machine', 'x86-16', '--config', 'base', '--cpus', '2', '--seed', '7', 'page_fault1', 'size=256K', 'iterations=1']);
    for (const p of [ix.points[1], ix.points[6]]) {
      const saved = join(dir, 'stat.json');
      const s = await spfperf(['stat', '--save', saved, ...p.stat_args]);
      expect(s.status).toBe(0);
      expect(readFileSync(join(dir, p.file), 'utf8')).toBe(readFileSync(saved, 'utf8'));
    }
  });

  it('prints the same and writes the same files with --jobs 1 (one run after another) and --jobs 2', async () => {
    const [a, b] = [join(tmp(), 'a'), join(tmp(), 'b')];
    const one = await spfperf(['sweep', '--jobs', '1', '-o', a, ...AXES, ...WORKLOAD]);
    const two = await spfperf(['sweep', '--jobs', '2', '-o', b, ...AXES, ...WORKLOAD]);
    expect(two).toEqual(one);
    for (const f of readdirSync(join(a, 'points'))) expect(readFileSync(join(b, 'points', f), 'utf8')).toBe(readFileSync(join(a, 'points', f), 'utf8'));
    expect(readFileSync(join(b, 'sweep.json'), 'utf8')).toBe(readFileSync(join(a, 'sweep.json'), 'utf8'));
  });

  it('--plot FILE draws the sweep it wrote, as spfperf plot does; a bad picture name is refused before any run', async () => {
    const dir = join(tmp(), 'out');
    const svg = join(dir, '..', 's.svg');
    const r = await spfperf(['sweep', '-o', dir, '--plot', svg, ...AXES, ...WORKLOAD]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^spfperf plot: wrote .*s\.svg .*2 lines, 1 panel/m);
    // The same picture and spec as `spfperf plot` of the sweep's index.
    const again = join(dir, '..', 'again.svg');
    expect((await spfperf(['plot', '-o', again, join(dir, 'sweep.json')])).status).toBe(0);
    expect(readFileSync(svg, 'utf8')).toBe(readFileSync(again, 'utf8'));
    expect(existsSync(join(dir, '..', 's.vl.json'))).toBe(true);
    const bad = join(tmp(), 'bad');
    const b = await spfperf(['sweep', '-o', bad, '--plot', 'x.jpg', ...AXES, ...WORKLOAD]);
    expect([b.status, b.stderr]).toEqual([1, "spfperf: --plot: 'x.jpg' must end in .svg or .png (the picture's format)\n"]);
    expect(existsSync(bad)).toBe(false);
  });

  it('--queue: a bad URL, or --jobs beside it, is one line naming the option, before anything runs or is written', async () => {
    const dir = join(tmp(), 'q');
    const bad = await spfperf(['sweep', '-o', dir, '--queue', 'http://127.0.0.1:6379/0', ...AXES, ...WORKLOAD]);
    expect([bad.status, bad.stderr]).toEqual([1, "spfperf: option '--queue': 'http://127.0.0.1:6379/0' is not a redis URL (scheme http) (expected redis://HOST:PORT/DB)\n"]);
    const both = await spfperf(['sweep', '-o', dir, '--queue', 'redis://127.0.0.1:6379/0', '--jobs', '2', ...AXES, ...WORKLOAD]);
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/^spfperf: options '--queue' and '--jobs' cannot be used together/);
    expect(existsSync(dir)).toBe(false);
  });

  it('-x SEP and -j print a line a point (goldens)', async () => {
    const dir = join(tmp(), 'out');
    const csv = await spfperf(['sweep', '-o', dir, '-x', ';', ...AXES, ...WORKLOAD]);
    expect(csv.status).toBe(0);
    expectGolden('sweep/page_fault1.csv.txt', csv.stdout);
    const json = await spfperf(['sweep', '-o', dir, '-j', ...AXES, ...WORKLOAD]);
    expect(json.status).toBe(0);
    expectGolden('sweep/page_fault1.json.txt', json.stdout);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { coords: object; value: number; noise_pct: number; file: string });
    expect(lines).toHaveLength(4);
    // The values are the documents' means.
    const doc = JSON.parse(readFileSync(join(dir, lines[2].file), 'utf8')) as { metrics: Record<string, { value: number }> };
    expect(lines[2].value).toBe(doc.metrics['ops/s'].value);
  });

  it('a workload with no metric: the table is of its elapsed time', async () => {
    const dir = join(tmp(), 'out');
    const r = await spfperf(['sweep', '-o', dir, '-x', ',', '--cpus', '2', 'fixtures/workloads/lost-write.spf', 'delay=1us,2us']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('machine,config,cpus,delay,seconds time elapsed,noise,file');
    const doc = JSON.parse(readFileSync(join(dir, 'points/0001-x86-vm16-base-2cpus-delay=2us.json'), 'utf8')) as { elapsed: number };
    expect(lines[2]).toBe(`x86-vm16,base,2,2us,${doc.elapsed},,points/0001-x86-vm16-base-2cpus-delay=2us.json`);
  });

  it('a workload process killed by a signal: stat\'s line on stderr for each run, in the runs\' order', async () => {
    const dir = join(tmp(), 'out');
    const r = await spfperf(['sweep', '-o', dir, '--cpus', '1,2', 'fixtures/workloads/segv.spf']);
    const stat = await spfperf(['stat', '--cpus', '1', 'fixtures/workloads/segv.spf']);
    expect(r.status).toBe(0);
    const line = stat.stderr.split('\n')[0];
    expect(line).toMatch(/^segv: process segv\/1000: Segmentation/);
    expect(r.stderr).toBe(`${line}\n${line}\n`);
    expect(index(dir).points).toHaveLength(2);
  });

  it('a run that fails: the index of the points done, then the error and exit status stat gives', async () => {
    const dir = join(tmp(), 'out');
    const r = await spfperf(['sweep', '-o', dir, '--cpus', '1', 'fixtures/workloads/wrong-expect.spf']);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/^spfperf: sweep: 0 of 1 points done \(.*sweep\.json\), then a run failed:\nspfperf: invariant violated: [^\n]*\n$/);
    expect(index(dir)).toMatchObject({ points: [], points_planned: 1, complete: false });
  });

  it('bad axes: a one-line error naming the option, before anything runs or is written', async () => {
    const dir = join(tmp(), 'out');
    const cases: [string[], number, string][] = [
      [['--cpus', '0'], 1, "spfperf: option '--cpus': 0 is out of range (1..1024)\n"],
      [['--cpus', '1..176:x0'], 1, "spfperf: option '--cpus': '1..176:x0': the factor must be at least 2, not 0\n"],
      [['--cpus', '1,32'], 1, "spfperf: option '--cpus': 32 is more than the 16 CPUs of x86-vm16 (1 socket x 16 cores x 1 thread); give --sockets, --cores-per-socket, --threads-per-core to reshape it\n"],
      [['--machine', 'x86-16,p8-80', '--cpus', '80'], 1, "spfperf: option '--cpus': 80 is more than the 16 CPUs of x86-16 (1 socket x 16 cores x 1 thread); give --sockets, --cores-per-socket, --threads-per-core to reshape it\n"],
      [['--config', 'base,nope'], 2, expect.stringMatching(/^spfperf: --config 'nope': not a preset, a file, or KEY=VALUE \(presets: .*\)\n$/) as unknown as string],
      [['--config', 'base+'], 1, "spfperf: option '--config': an empty item in 'base+' (items of one config are joined with '+')\n"],
      [['--machine', 'nope'], 1, expect.stringMatching(/^spfperf: option '--machine': unknown machine 'nope' \(known: .*\)\n$/) as unknown as string],
      [['-r', '0'], 1, "spfperf: option '-r': 0 is out of range (1..1000)\n"],
      [['--jobs', 'x'], 1, "spfperf: option '--jobs': 'x' is not a whole number\n"],
      [['-x', ',', '-j'], 1, "spfperf: options '-x' and '-j' cannot be used together\n"],
    ];
    for (const [args, status, stderr] of cases) {
      const r = await spfperf(['sweep', '-o', dir, ...args, ...WORKLOAD]);
      expect({ args, status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ args, status, stderr, stdout: '' });
    }
    const j = await spfperf(['sweep', '-o', dir, '-j', '2', ...WORKLOAD]);
    expect(j.stderr).toBe("spfperf: option '-j' is --json, as in stat: give the jobs at once with --jobs 2\n");
    const p = await spfperf(['sweep', '-o', dir, 'page_fault1', 'size=1M,', 'iterations=1']);
    expect(p.stderr).toBe("spfperf: parameter 'size': an empty value in 'size=1M,'\n");
    expect(existsSync(dir)).toBe(false);
  });

  it('the output directory: a new sweep replaces an old one; a directory of other files only with --force', async () => {
    const dir = join(tmp(), 'out');
    expect((await spfperf(['sweep', '-o', dir, ...AXES, ...WORKLOAD])).status).toBe(0);
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    // Fewer points: the old ones' files go, what is not the sweep's stays.
    expect((await spfperf(['sweep', '-o', dir, '--cpus', '1', ...WORKLOAD])).status).toBe(0);
    expect(readdirSync(join(dir, 'points'))).toEqual(['0000-x86-vm16-base-1cpus.json']);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');

    const other = join(tmp(), 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'data.csv'), '1\n');
    const refused = await spfperf(['sweep', '-o', other, '--cpus', '1', ...WORKLOAD]);
    expect(refused).toEqual({ status: 1, stdout: '', stderr: `spfperf: option '-o': '${other}' is not empty and holds no sweep (sweep.json); give --force to write into it, or another directory\n` });
    const forced = await spfperf(['sweep', '-o', other, '--force', '--cpus', '1', ...WORKLOAD]);
    expect(forced.status).toBe(0);
    expect(readFileSync(join(other, 'data.csv'), 'utf8')).toBe('1\n');
    expect(index(other).points).toHaveLength(1);

    const file = join(tmp(), 'f');
    writeFileSync(file, '');
    expect((await spfperf(['sweep', '-o', file, ...WORKLOAD])).stderr).toBe(`spfperf: option '-o': '${file}' is not a directory\n`);
    // The default: ./sweep.
    const cwd = tmp();
    expect((await spfperf(['sweep', '--cpus', '1', ...WORKLOAD], { cwd })).status).toBe(0);
    expect(index(join(cwd, 'sweep')).points).toHaveLength(1);
  });

  it('refuses to remove or overwrite an input of the run', async () => {
    const dir = join(tmp(), 'out');
    mkdirSync(join(dir, 'points'), { recursive: true });
    const script = join(dir, 'points', '0000-x86-vm16-base-1cpus.json');
    writeFileSync(script, readFileSync('workloads/page_fault1.spf'));
    const r = await spfperf(['sweep', '-o', dir, '--cpus', '1', script, 'size=256K']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`spfperf: option '-o': '${script}' is the workload script ('${script}'); refusing to overwrite an input\n`);
  });

  it('Ctrl-C: the runs under way stop, no more start; sweep.json lists the points done and the command says how many were not', async () => {
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(handler);
      return () => {};
    };
    const dir = join(tmp(), 'out');
    // (Not 1 CPU: a run of one CPU does not hand control back until it ends, so it cannot be stopped.)
    const r = await spfperf(['sweep', '--jobs', '2', '-o', dir, '--cpus', '2,4,8', 'ebizzy', 'seconds=10s'], { onInterrupt });
    expect(r.status).toBe(130);
    expect(r.stderr).toBe(`spfperf: sweep stopped (Ctrl-C): 0 of 3 points done, 3 not; ${join(dir, 'sweep.json')} lists the done ones\n`);
    expect(index(dir)).toMatchObject({ points: [], points_planned: 3, complete: false });
    expect(r.stdout).toMatch(/│ +8 │ +- │/);
  });

  it('hands out the runs of most CPUs first, point order among equals', () => {
    expect(handOutOrder([1, 1, 4, 4, 16, 16, 2, 2].map((ncpus) => ({ ncpus })))).toEqual([4, 5, 2, 3, 6, 7, 0, 1]);
  });

  it('a sweep whose runner ends early keeps the points whose runs all ended (the seam of --queue)', async () => {
    // A runner that runs only the first three runs it is given: the runs are handed out most CPUs
    // first, so point 1 (2 CPUs, two seeds) is done, and point 0 (1 CPU) has one run of two.
    const partial: RunSpecs = (specs, o) => runLocally(specs.slice(0, 3), o);
    const dir = join(tmp(), 'out');
    const stdout = new Capture();
    const stderr = new Capture();
    const io: CliIo = { stdout, stderr, stdin: Readable.from([]), isTTY: { stdout: false, stderr: false, stdin: false }, env: {} };
    const code = await run('page_fault1', ['size=256K', 'iterations=1'], { cpus: ['1,2'], repeat: '2', output: dir, json: true }, io, partial);
    expect(code).toBe(130);
    expect(stderr.text).toBe(`spfperf: sweep ended early: 1 of 2 points done, 1 not; ${join(dir, 'sweep.json')} lists the done ones\n`);
    expect(index(dir).points.map((p) => p.index)).toEqual([1]);
    expect(readdirSync(join(dir, 'points'))).toEqual(['0001-x86-vm16-base-2cpus.json']);
    expect(stdout.text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { done: boolean }).done)).toEqual([false, true]);
  });

  it('on a terminal: a progress line of the points done, erased at the end', async () => {
    // A terminal that keeps what is drawn, and tells when a pattern shows.
    let drawn = '';
    const waits: { re: RegExp; resolve: () => void }[] = [];
    const tty = Object.assign(new Capture({ write: (chunk, done) => {
      drawn += chunk.toString('utf8');
      for (const w of [...waits]) {
        if (!w.re.test(drawn)) continue;
        waits.splice(waits.indexOf(w), 1);
        w.resolve();
      }
      done();
    } }), { isTTY: true, columns: 200, rows: 40 });
    const until = (re: RegExp): Promise<void> => (re.test(drawn) ? Promise.resolve() : new Promise((resolve) => waits.push({ re, resolve })));
    // The runs end; the sweep waits until the display (drawn after its 1 s delay) shows them all done.
    const runner: RunSpecs = async (specs, o) => {
      const r = await runLocally(specs, o);
      await until(/2\/2 points/);
      return r;
    };
    const stdout = new Capture();
    const io: CliIo = { stdout, stderr: tty, stdin: Readable.from([]), isTTY: { stdout: false, stderr: true, stdin: false }, env: {} };
    const code = await run('page_fault1', ['size=256K', 'iterations=1'], { cpus: ['1,2'], output: join(tmp(), 'out') }, io, runner);
    expect(code).toBe(0);
    expect(drawn).toMatch(/sweep page_fault1 size=256K iterations=1  \[#{16}\] 100%  2\/2 points  sim [\d.]+ s  [\d,]+ faults/);
    // Erased: the last frame is an empty line, and the cursor back up on it.
    expect(drawn.endsWith('\u001B[1A')).toBe(true);
    expect(stdout.text).toContain('# machine x86-vm16');
  });
});
