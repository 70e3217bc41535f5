import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EV, EVENTS } from '../../src/events/catalog.js';
import { ksymName as siteName } from '../../src/events/ksym.js';
import { runWorkload } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { describeRun } from '../../src/stats/save.js';
import { Capture, spfperf } from '../helpers/cli.js';
import { expectGolden, ROOT } from '../helpers/golden.js';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'spfperf-record-'));
const parse = (text: string): Record<string, unknown>[] => text.trim().split('\n').map((l) => JSON.parse(l));
const RUN = ['--cpus', '4', '--config', 'dufour-v11', 'ebizzy', 'threads=4', 'seconds=0.005s'];
const SMALL = ['-e', 'faults,exceptions:page_fault_user', '--cpus', '2', 'ebizzy', 'threads=2', 'chunks=1', 'chunk_size=16K', 'seconds=0.0001s'];

function eventCounts(lines: Record<string, unknown>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) if (l.type === 'sample') m.set(l.event as string, (m.get(l.event as string) ?? 0) + 1);
  return m;
}

describe('spfperf record', () => {
  it('records as many samples of each event as the model counts for the same run (stat)', async () => {
    for (const config of ['dufour-v11', 'dufour-v9']) {
      const dir = tmp();
      const file = join(dir, 't.ndjson');
      const args = ['--cpus', '4', '--config', config, 'ebizzy', 'threads=4', 'seconds=0.005s'];
      const r = await spfperf(['record', '-o', file, '-e', 'faults,minor-faults,spf,pagefault:*', ...args]);
      expect(r.status).toBe(0);
      const got = eventCounts(parse(readFileSync(file, 'utf8')));
      const prep = prepareRun('ebizzy', ['threads=4', 'seconds=0.005s'], { cpus: '4', config: [config] });
      const want = runWorkload(runOptionsOf(prep)).counts;
      const pf = EVENTS.filter((e) => e.name.startsWith('pagefault:'));
      expect(pf.length).toBeGreaterThan(4);
      for (const e of pf) expect(got.get(e.name) ?? 0, `${config} ${e.name}`).toBe(want.total(e.id));
      expect(got.get('faults')).toBe(want.total(EV.PAGE_FAULTS));
      expect(got.get('minor-faults')).toBe(want.total(EV.MINOR_FAULTS));
      expect(got.get('spf') ?? 0).toBe(want.total(EV.SPF));
      // Some SPF aborts happen in this run, or the comparison says little.
      expect(pf.reduce((a, e) => a + (got.get(e.name) ?? 0), 0)).toBeGreaterThan(50);
    }
  });

  it('writes a header (describeRun + trace format), samples and a summary (runValues)', async () => {
    const dir = tmp();
    const r = await spfperf(['record', ...RUN], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^\[ spfperf record: Captured and wrote \d+\.\d{3} MB spfperf\.ndjson \(\d+ samples\) \]\n$/);
    expect(readdirSync(dir)).toEqual(['spfperf.ndjson']);
    const lines = parse(readFileSync(join(dir, 'spfperf.ndjson'), 'utf8'));
    const [header, summary] = [lines[0], lines[lines.length - 1]];
    const prep = prepareRun('ebizzy', ['threads=4', 'seconds=0.005s'], { cpus: '4', config: ['dufour-v11'] });
    expect(header).toEqual({
      type: 'header',
      trace_format: 1,
      ...JSON.parse(JSON.stringify(describeRun(prep))),
      command: 'ebizzy threads=4 seconds=0.005s',
      events: ['faults', 'pagefault:spf_vma_changed', 'pagefault:spf_vma_noanon', 'pagefault:spf_vma_notsup', 'pagefault:spf_vma_access', 'pagefault:spf_pmd_changed', 'pagefault:spf_pte_lock'],
    });
    expect(summary.type).toBe('summary');
    expect(Object.keys(summary)).toEqual(expect.arrayContaining(['counters', 'vmstat', 'metrics', 'counts', 'elapsed', 'user', 'sys', 'samples', 'stopped']));
    expect(summary.stopped).toBe(false);
    const counters = summary.counters as Record<string, number>;
    const samples = summary.samples as Record<string, number>;
    expect(counters['page-faults']).toBe(samples.faults);
    const counts = eventCounts(lines);
    for (const [ev, n] of Object.entries(samples)) expect(counts.get(ev) ?? 0).toBe(n);
    expect((summary.metrics as Record<string, { value: number }>)['records/s'].value).toBeGreaterThan(0);
    // The workload's counter behind the metric (ebizzy: records/s = records / $seconds).
    const records = (summary.counts as Record<string, number>).records;
    expect(records).toBeGreaterThan(0);
    expect((summary.metrics as Record<string, { value: number }>)['records/s'].value).toBeCloseTo(records / 0.005, 3);
    for (const l of lines.slice(1, -1)) expect(l.type).toBe('sample');
  });

  it('gives pagefault samples the caller as a 64-bit address with its symbol, and the VMA and address as 0x strings', async () => {
    const dir = tmp();
    expect((await spfperf(['record', '-e', 'pagefault:*', ...RUN], { cwd: dir })).status).toBe(0);
    const samples = parse(readFileSync(join(dir, 'spfperf.ndjson'), 'utf8')).filter((l) => l.type === 'sample');
    expect(samples.length).toBeGreaterThan(50);
    for (const s of samples) {
      expect(Object.keys(s)).toEqual(['type', 'ts', 'cpu', 'pid', 'tid', 'comm', 'event', 'caller', 'sym', 'vm_start', 'vm_end', 'address']);
      expect(s.caller).toMatch(/^0xffffffff[0-9a-f]{8}$/);
      expect(s.sym).toBe(siteName(parseInt((s.caller as string).slice(10), 16)));
      // (The VMA is the one the fault sees at the abort: for spf_vma_changed it may no longer
      // hold the address, so only the form is checked.)
      for (const f of [s.vm_start, s.vm_end, s.address]) expect(f).toMatch(/^0x[0-9a-f]+$/);
      expect(BigInt(s.vm_start as string) < BigInt(s.vm_end as string)).toBe(true);
      expect(Number.isInteger(s.ts)).toBe(true);
      expect((s.cpu as number) >= 0 && (s.cpu as number) < 4).toBe(true);
    }
    const ts = samples.map((s) => s.ts as number);
    expect(ts[ts.length - 1]).toBeGreaterThan(ts[0]);
  });

  it('is deterministic: the same command twice writes byte-identical files (golden: header and first lines)', async () => {
    const a = await spfperf(['record', '-o', '-', ...SMALL]);
    const b = await spfperf(['record', '-o', '-', ...SMALL]);
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const head = a.stdout.split('\n').slice(0, 9).join('\n').replace(/"spfperf":"[^"]*"/, '"spfperf":"VERSION"');
    expectGolden('record.ebizzy-small.head.txt', head + '\n');
  });

  it('streams to stdout with -o -, the same bytes it writes to a file', async () => {
    const dir = tmp();
    const file = join(dir, 'f.ndjson');
    const a = await spfperf(['record', '-o', '-', ...RUN]);
    expect((await spfperf(['record', '-o', file, ...RUN])).status).toBe(0);
    expect(a.status).toBe(0);
    expect(a.stderr).toContain('MB (stdout)');
    expect(a.stdout).toBe(readFileSync(file, 'utf8'));
  });

  it('keeps up with a slow reader (backpressure) and the reader gets every line', async () => {
    // A reader that takes each chunk only on a later turn of the event loop, with a small buffer:
    // the writer must wait for it (drain) rather than queue the whole trace.
    let most = 0;
    let pending = 0;
    const slow = new Capture({
      highWaterMark: 1024,
      write: (chunk, done) => {
        pending += chunk.length;
        most = Math.max(most, slow.writableLength);
        setImmediate(() => {
          pending -= chunk.length;
          done();
        });
      },
    });
    const r = await spfperf(['record', '-o', '-', ...RUN], { stdout: slow });
    expect(r.status).toBe(0);
    expect(pending).toBe(0);
    const file = join(tmp(), 'f.ndjson');
    expect((await spfperf(['record', '-o', file, ...RUN])).status).toBe(0);
    const want = readFileSync(file, 'utf8');
    expect(r.stdout).toBe(want);
    // What waited in the stream's buffer never went past one of the writer's chunks (1 MiB, a
    // line more at most): it waited for the reader instead of queueing the whole trace.
    expect(want.length).toBeGreaterThan((1 << 20) + 4096);
    expect(most).toBeLessThanOrEqual((1 << 20) + 4096);
  });

  it('--stat prints the recorded events\' counters perf-stat style on stderr', async () => {
    const r = await spfperf(['record', '-o', '-', '--stat', ...SMALL]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(" Performance counter stats for 'ebizzy threads=2 chunks=1 chunk_size=16K seconds=0.0001s':");
    const n = r.stdout.split('\n').filter((l) => l.includes('"event":"faults"')).length;
    expect(r.stderr).toMatch(new RegExp(`\\n +${n}      faults +\\n`));
    expect(r.stderr).toMatch(/exceptions:page_fault_user/);
  });

  it('an output file that cannot be written is a one-line error, exit 1, and leaves nothing', async () => {
    const dir = tmp();
    const r = await spfperf(['record', '-o', join(dir, 'no', 'such', 'dir.ndjson'), ...SMALL]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`spfperf: cannot write '${join(dir, 'no', 'such', 'dir.ndjson')}': No such file or directory\n`);
    const d = await spfperf(['record', '-o', dir, ...SMALL]);
    expect(d.status).toBe(1);
    expect(d.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses events the model only counts in bulk, and unknown events as perf does', async () => {
    const r = await spfperf(['record', '-e', 'task-clock', ...SMALL.slice(2)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^spfperf: event 'task-clock' cannot be recorded/);
    const u = await spfperf(['record', '-e', 'nope', ...SMALL.slice(2)]);
    expect(u.status).toBe(1);
    expect(u.stderr).toMatch(/^event syntax error: 'nope'/);
  });

  it('Ctrl-C stops the simulation and still writes a valid trace with its summary', async () => {
    const dir = tmp();
    let tmpWhileRecording: string[] = [];
    // Ctrl-C once the simulation is under way (a turn of the event loop after record subscribes).
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(() => {
        tmpWhileRecording = readdirSync(dir);
        handler();
      });
      return () => {};
    };
    const r = await spfperf(['record', '-o', 'long.ndjson', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=10s'], { cwd: dir, onInterrupt });
    expect(r.status).toBe(0);
    expect(tmpWhileRecording).toEqual(['long.ndjson.tmp']); // still FILE.tmp while recording
    expect(r.stderr).toMatch(/^spfperf: record stopped \(Ctrl-C\) at \d+\.\d+ s of simulated time; the trace ends there\n\[ spfperf record: Captured/);
    expect(readdirSync(dir)).toEqual(['long.ndjson']);
    const lines = parse(readFileSync(join(dir, 'long.ndjson'), 'utf8'));
    const summary = lines[lines.length - 1];
    expect(summary.type).toBe('summary');
    expect(summary.stopped).toBe(true);
    expect((summary.elapsed as number) < 10).toBe(true);
    expect((summary.samples as Record<string, number>).faults).toBe(eventCounts(lines).get('faults'));
    const rep = await spfperf(['report', '--stdio', '-i', join(dir, 'long.ndjson')]);
    expect(rep.status).toBe(0);
    expect(rep.stdout).toContain('# The recording was stopped (Ctrl-C) before the workload finished');
    expect(rep.stdout).toContain('# Total Lost Samples: 0');
  });

  it('a second Ctrl-C gives the run up at once: exit 130, no output file left', async () => {
    const dir = tmp();
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(() => {
        handler();
        handler();
      });
      return () => {};
    };
    const r = await spfperf(['record', '-o', 'long.ndjson', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=10s'], { cwd: dir, onInterrupt });
    expect(r.status).toBe(130);
    // It says what it threw away (issue 13 item 10).
    expect(r.stderr).toMatch(/^spfperf: interrupted again: gave the run up and discarded the partial trace 'long.ndjson.tmp' \([\d.]+ MB, \d+ samples so far\); 'long.ndjson' was not written\n$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('SIGTERM is taken as Ctrl-C: a valid trace with "stopped": true, no FILE.tmp left, exit 143 (issue 13 item 10)', async () => {
    const dir = tmp();
    let subscribed: readonly string[] | undefined;
    const onInterrupt = (handler: (s: 'SIGINT' | 'SIGTERM') => void, signals?: readonly ('SIGINT' | 'SIGTERM')[]): (() => void) => {
      subscribed = signals;
      setImmediate(() => handler('SIGTERM'));
      return () => {};
    };
    const r = await spfperf(['record', '-o', 'long.ndjson', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=10s'], { cwd: dir, onInterrupt });
    expect(subscribed).toEqual(['SIGINT', 'SIGTERM']);
    expect(r.status).toBe(143);
    expect(r.stderr).toMatch(/^spfperf: record stopped \(SIGTERM\) at \d+\.\d+ s of simulated time; the trace ends there\n\[ spfperf record: Captured/);
    expect(readdirSync(dir)).toEqual(['long.ndjson']);
    const lines = parse(readFileSync(join(dir, 'long.ndjson'), 'utf8'));
    expect(lines.at(-1)!.type).toBe('summary');
    expect(lines.at(-1)!.stopped).toBe(true);
  });
});

/** Samples of one event, per thread, in time order. */
function byThread(samples: Record<string, unknown>[]): Map<number, Record<string, unknown>[]> {
  const m = new Map<number, Record<string, unknown>[]>();
  for (const s of samples) {
    const l = m.get(s.tid as number) ?? [];
    l.push(s);
    m.set(s.tid as number, l);
  }
  for (const l of m.values()) l.sort((a, b) => (a.ts as number) - (b.ts as number));
  return m;
}

describe('fault samples carry how the fault completed and its latency (issue 13 item 7)', () => {
  const outcomes = (lines: Record<string, unknown>[], ev = 'faults'): Map<string, number> => {
    const m = new Map<string, number>();
    for (const l of lines) if (l.type === 'sample' && l.event === ev) m.set(`${l.path} ${l.retry} ${l.major}`, (m.get(`${l.path} ${l.retry} ${l.major}`) ?? 0) + 1);
    return m;
  };
  const count = (m: Map<string, number>, f: (k: string[]) => boolean): number => [...m].filter(([k]) => f(k.split(' '))).reduce((a, [, n]) => a + n, 0);

  it('the outcomes add up to the model\'s own counts: speculative, per-VMA lock, major (every design)', async () => {
    for (const config of ['base', 'dufour-v11', 'lespinasse', 'kamezawa-fixed', 'per-vma-lock']) {
      const r = await spfperf(['record', '-o', '-', '-e', 'faults,minor-faults,major-faults', '--cpus', '4', '--config', config, 'ebizzy', 'threads=4', 'seconds=0.001s']);
      expect(r.status, r.stderr).toBe(0);
      const lines = parse(r.stdout);
      const m = outcomes(lines);
      const prep = prepareRun('ebizzy', ['threads=4', 'seconds=0.001s'], { cpus: '4', config: [config] });
      const want = runWorkload(runOptionsOf(prep)).counts;
      expect(count(m, () => true), config).toBe(want.total(EV.PAGE_FAULTS));
      expect(count(m, ([path]) => path === 'spec'), config).toBe(want.total(EV.SPF));
      expect(count(m, ([path]) => path === 'vma'), config).toBe(want.total(EV.VMA_LOCK_SUCCESS));
      expect(count(m, ([, , major]) => major === 'true'), config).toBe(want.total(EV.MAJOR_FAULTS));
      if (config !== 'base') expect(count(m, ([path]) => path !== 'mmap'), config).toBeGreaterThan(want.total(EV.PAGE_FAULTS) / 2);
      // minor-faults samples are the faults that completed as minor ones, with the same outcome.
      expect(outcomes(lines, 'minor-faults')).toEqual(new Map([...m].filter(([k]) => k.endsWith('false'))));
    }
  });

  it('a fault the mmap-lock path retried (VM_FAULT_RETRY, FAULT_FLAG_TRIED) says so, and is the major fault the kernel counts', async () => {
    const r = await spfperf(['record', '-o', '-', '-e', 'faults,major-faults', '--cpus', '2', 'shmem-dirty', 'size=1M']);
    expect(r.status).toBe(0);
    const lines = parse(r.stdout);
    const m = outcomes(lines);
    const summary = lines.at(-1)!;
    const major = (summary.counters as Record<string, number>)['major-faults'];
    expect(major).toBeGreaterThan(100);
    expect(count(m, ([path, retry]) => path === 'mmap' && retry === 'true')).toBe(major);
  });

  it('latency_ns: whole ns, and a thread\'s faults never overlap (each lies between its neighbours\' samples)', async () => {
    const r = await spfperf(['record', '-o', '-', '-e', 'faults', ...RUN]);
    const samples = parse(r.stdout).filter((l) => l.type === 'sample');
    expect(samples.length).toBeGreaterThan(1000);
    let bad = 0;
    let longer = 0;
    for (const l of byThread(samples).values()) {
      for (const [i, s] of l.entries()) {
        const lat = s.latency_ns as number;
        expect(Number.isInteger(lat)).toBe(true);
        expect(lat).toBeGreaterThan(0);
        // A fault starts after the previous one ended (so after its sample) and ends before the
        // next one starts (so before its sample): its latency fits between those two samples.
        const before = i > 0 ? (l[i - 1].ts as number) : 0;
        if (i + 1 < l.length && lat > (l[i + 1].ts as number) - before + 1) bad++;
        if (lat > 2 * (samples[0].latency_ns as number)) longer++;
      }
    }
    expect(bad).toBe(0);
    // Not one constant: faults that waited (a lock, an interrupt taken on the way) took longer.
    expect(longer).toBeGreaterThan(0);
  });

  it('the jq recipes of docs/trace-format.md give the same counts as the trace (skipped without jq)', async (ctx) => {
    if (spawnSync('jq', ['--version']).status !== 0) ctx.skip();
    const dir = tmp();
    expect((await spfperf(['record', '-e', 'faults', '--cpus', '4', '--config', 'dufour-v9', 'ebizzy', 'threads=4', 'seconds=0.002s'], { cwd: dir })).status).toBe(0);
    const samples = parse(readFileSync(join(dir, 'spfperf.ndjson'), 'utf8')).filter((l) => l.type === 'sample');
    const doc = readFileSync(join(ROOT, 'docs/trace-format.md'), 'utf8').split('\n');
    const recipe = (comment: string): string => doc[doc.indexOf(comment) + 1];
    const run = (cmd: string): Map<string, number> => {
      const o = spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
      expect(o.status, o.stderr).toBe(0);
      return new Map(o.stdout.trim().split('\n').map((l) => {
        const [, n, key] = /^ *(\d+) (.*)$/.exec(l)!;
        return [key, Number(n)];
      }));
    };
    const byOutcome = new Map<string, number>();
    const hist = new Map<string, number>();
    for (const s of samples) {
      const k = `${s.path} retry=${s.retry} major=${s.major}`;
      byOutcome.set(k, (byOutcome.get(k) ?? 0) + 1);
      const b = String(2 ** Math.floor(Math.log2(s.latency_ns as number)));
      hist.set(b, (hist.get(b) ?? 0) + 1);
    }
    expect(run(recipe('# Faults by how they completed: path (spec, vma or mmap), retried, major'))).toEqual(byOutcome);
    expect(run(recipe('# Fault latency histogram: faults per power-of-two bucket of latency_ns (512 = 512..1023 ns)'))).toEqual(hist);
    expect(byOutcome.size).toBeGreaterThan(1);
    expect(hist.size).toBeGreaterThan(3);
  });
});

describe('record -o onto something that is not a regular file (issue 13 item 8)', () => {
  const TINY = ['page_fault1', 'threads=1', 'iterations=1', 'size=64K'];

  it('a device made with mknod is written in place and stays a device (skipped if mknod is not permitted)', async (ctx) => {
    const dir = tmp();
    const dev = join(dir, 'null');
    // The null device's numbers (1, 3), made in a temporary directory: never a system node.
    if (spawnSync('mknod', [dev, 'c', '1', '3']).status !== 0) ctx.skip();
    const r = await spfperf(['record', '-o', dev, ...TINY]);
    expect(r.status).toBe(0);
    expect(statSync(dev).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir)).toEqual(['null']);
  });

  it('a FIFO is written in place: the reader gets the whole trace, and the FIFO stays', async (ctx) => {
    const dir = tmp();
    const fifo = join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) ctx.skip();
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((res) => reader.on('close', () => res()));
    const r = await spfperf(['record', '-o', fifo, ...TINY]).finally(() => setTimeout(() => reader.kill(), 10_000).unref());
    await closed;
    expect(r.status).toBe(0);
    const lines = parse(Buffer.concat(chunks).toString('utf8'));
    expect(lines[0].type).toBe('header');
    expect(lines.at(-1)!.type).toBe('summary');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['fifo']);
  });

  it('a symlink is followed: its target gets the trace, the link stays (a dangling link\'s target is created)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'old.ndjson'), 'old\n');
    symlinkSync('old.ndjson', join(dir, 'link'));
    symlinkSync('new.ndjson', join(dir, 'dangling'));
    for (const [link, target] of [['link', 'old.ndjson'], ['dangling', 'new.ndjson']]) {
      const r = await spfperf(['record', '-o', join(dir, link), ...TINY]);
      expect(r.status).toBe(0);
      expect(lstatSync(join(dir, link)).isSymbolicLink()).toBe(true);
      expect(parse(readFileSync(join(dir, target), 'utf8')).at(-1)!.type).toBe('summary');
    }
    expect(readdirSync(dir).sort()).toEqual(['dangling', 'link', 'new.ndjson', 'old.ndjson']);
  });
});
