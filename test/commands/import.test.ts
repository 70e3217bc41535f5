import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden, ROOT } from '../helpers/golden.js';
import { CONFIG_PRESET_VALUES } from '../../src/cli-values.js';

const CAP = 'fixtures/perf-captures/import';
const dir = mkdtempSync(join(tmpdir(), 'spfperf-import-'));

/** The fault lines a capture holds (what perf recorded, counted on the text itself). */
function faultLines(name: string): number {
  return readFileSync(join(ROOT, CAP, `${name}.script.txt`), 'utf8').split('\n').filter((l) => l.includes(' exceptions:page_fault_user: ')).length;
}

async function imported(name: string): Promise<string> {
  const out = join(dir, `${name}.spf`);
  const r = await spfperf(['import', '-i', `${CAP}/${name}.script.txt`, '-o', out]);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^spfperf: ${CAP}/${name}\\.script\\.txt: \\d+ events of \\d+ threads? in \\d+ process(es)? -> ${out} \\(\\d+ synthesized mappings?, \\d+ events dropped\\)\\n$`));
  return out;
}

/** `stat -x, -e faults` of a script: the count, and stderr without the CSV line. */
async function faults(path: string, ...opts: string[]): Promise<{ n: number; status: number; rest: string }> {
  const r = await spfperf(['stat', '-x,', '-e', 'faults', ...opts, path]);
  const line = r.stderr.split('\n').find((l) => l.endsWith(',faults,') || /,faults,/.test(l)) ?? '';
  return { n: Number(line.split(',')[0]), status: r.status, rest: r.stderr.replace(line, '') };
}

describe('spfperf import (the captures of shared/perf-captures/import)', () => {
  it('app.script.txt: the script (golden), and stat -e faults of it within 5 % of the recording\'s fault lines', async () => {
    const out = await imported('app');
    expectGolden('import/app.spf', readFileSync(out, 'utf8'));
    const { n, status } = await faults(out);
    expect(status).toBe(0);
    const recorded = faultLines('app');
    expect(recorded).toBe(5816);
    expect(Math.abs(n - recorded) / recorded).toBeLessThan(0.05);
  });

  it('node.script.txt (one process, 7 threads): faults within 5 %', async () => {
    const { n, status } = await faults(await imported('node'));
    expect(status).toBe(0);
    expect(Math.abs(n - faultLines('node')) / faultLines('node')).toBeLessThan(0.05);
  });

  it('forker.script.txt (two processes, fork, COW): faults within 5 %, and the fork is a fork', async () => {
    const out = await imported('forker');
    const text = readFileSync(out, 'utf8');
    expect(text.match(/^\s*fork \{/gm)?.length).toBe(1);
    expect(text.match(/^process /gm)?.length).toBe(1);
    const { n, status } = await faults(out);
    expect(status).toBe(0);
    expect(Math.abs(n - faultLines('forker')) / faultLines('forker')).toBeLessThan(0.05);
  });

  it('the imported scripts run under every design preset, and on powerpc\'s 64 KiB pages, without error', async () => {
    // forker (two processes, a fork, threads in both) is the cheapest of the three to run.
    const forker = await imported('forker');
    for (const c of CONFIG_PRESET_VALUES) {
      const r = await faults(forker, '--config', c);
      expect([c, r.status, r.rest.trim()]).toEqual([c, 0, '']);
      expect(r.n).toBeGreaterThan(0);
    }
    for (const [name, machine] of [['app', 'p8-80'], ['node', 'p8-176'], ['forker', 'skl-4s192']]) {
      const path = join(dir, `${name}.spf`);
      const r = await faults(existsSync(path) ? path : await imported(name), '--machine', machine);
      expect([name, machine, r.status, r.rest.trim()]).toEqual([name, machine, 0, '']);
    }
  });
});

describe('spfperf import: input and output', () => {
  const good = '  app 1 [000] 1.000001: exceptions:page_fault_user: address=0x7f0000001000 ip=0x2 error_code=0x6\n';

  it('reads stdin and writes stdout by default', async () => {
    const r = await spfperf(['import'], { stdin: good + good });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# Imported by spfperf import from stdin \(perf script text, 2 lines\)/);
    expect(r.stdout).toContain('touch heap1 write offset 0 length 1\n');
    expect(r.stderr).toMatch(/^spfperf: <stdin>: 2 events of 1 thread in 1 process -> stdout/);
  });

  it('a line that is not perf script text: file:line:col: message, exit 2; --skip-bad counts them', async () => {
    const f = join(dir, 'bad.txt');
    writeFileSync(f, `${good}${good}  app 1 [000] 1.000002: exceptions:page_fault_user: address=0x7f\n${good}`);
    const r = await spfperf(['import', '-i', f]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`spfperf: ${f}:3:53: exceptions:page_fault_user: expected 'address=0x... ip=0x... error_code=0x...', found 'address=0x7f'\n`);
    const s = await spfperf(['import', '-i', f, '--skip-bad']);
    expect(s.status).toBe(0);
    expect(s.stderr).toContain(', 1 line not perf script text skipped)');
    expect(s.stdout).toContain('1 not perf script text skipped');
  });

  it('an empty or event-less input is a clear error', async () => {
    const e = await spfperf(['import'], { stdin: '' });
    expect([e.status, e.stderr]).toEqual([2, expect.stringMatching(/^spfperf: <stdin>: no perf script events \(the input is empty\): record with perf record/)]);
    const c = await spfperf(['import'], { stdin: '# only a comment\n\n' });
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/no perf script events in 2 lines/);
    const o = await spfperf(['import'], { stdin: '  app 1 [000] 1.5: syscalls:sys_enter_brk: brk: 0x00000000\n' });
    expect([o.status, o.stderr]).toEqual([2, expect.stringMatching(/^spfperf: <stdin>: no page_fault_user nor mmap events among its 1: nothing to replay/)]);
  });

  it('never overwrites its input; writes the output whole or not at all', async () => {
    const f = join(dir, 'in.txt');
    writeFileSync(f, good);
    const r = await spfperf(['import', '-i', f, '-o', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`spfperf: option '-o': '${f}' is the input (-i) ('${f}'); refusing to overwrite an input\n`);
    expect(readFileSync(f, 'utf8')).toBe(good);
    const out = join(dir, 'kept.spf');
    writeFileSync(out, 'old\n');
    const bad = join(dir, 'bad2.txt');
    writeFileSync(bad, 'not perf\n');
    expect((await spfperf(['import', '-i', bad, '-o', out])).status).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('old\n');
    expect((await spfperf(['import', '-i', f, '-o', out])).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^# Imported/);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('bad options: one line each, before any input is read', async () => {
    const fmt = await spfperf(['import', '--format', 'perf', '-i', 'nonexistent']);
    expect([fmt.status, fmt.stderr]).toEqual([1, "spfperf: option '--format': unknown format 'perf' (expected: perf-script, ndjson)\n"]);
    const ts = await spfperf(['import', '--time-scale', '-1']);
    expect([ts.status, ts.stderr]).toEqual([1, "spfperf: option '--time-scale': '-1' is not a number at least 0\n"]);
    const none = await spfperf(['import', '-i', join(dir, 'missing.txt')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^spfperf: cannot open '.*missing\.txt': No such file or directory\n$/);
    expect(existsSync(join(dir, 'missing.txt'))).toBe(false);
  });
});

describe('spfperf import: random traces', () => {
  it('a random mix of mmap (MAP_FIXED over others too), munmap, mprotect, madvise and faults of three threads imports into a script that runs, --check, on 4 KiB and 64 KiB pages', async () => {
    let seed = 11;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const h = (n: number): string => `0x${n.toString(16)}`;
    for (let iter = 0; iter < 3; iter++) {
      const lines: string[] = [];
      let us = 0;
      const live: [number, number][] = [];
      const L = (tid: number, rest: string): void => {
        us += 1 + rnd(200);
        lines.push(`  app ${tid} [000] 100.${String(us).padStart(6, '0')}: ${rest}`);
      };
      let next = 0x7f0000000000;
      for (let k = 0; k < 200; k++) {
        const tid = 1 + rnd(3);
        const r = rnd(10);
        if (r === 0 || live.length === 0) {
          const len = (1 + rnd(64)) * 4096;
          const fixed = live.length > 0 && rnd(4) === 0;
          const base = fixed ? live[rnd(live.length)][0] + rnd(4) * 4096 : next;
          if (!fixed) next += len + 0x100000;
          L(tid, `syscalls:sys_enter_mmap: addr: ${h(fixed ? base : 0)}, len: ${h(len)}, prot: ${h(rnd(8))}, flags: ${h(fixed ? 0x32 : 0x22)}, fd: 0xffffffff, off: 0x0`);
          L(tid, `syscalls:sys_exit_mmap: ${h(base)}`);
          live.push([base, len]);
        } else {
          const [b, len] = live[rnd(live.length)];
          const at = b + rnd(len / 4096) * 4096;
          const n = h((1 + rnd(8)) * 4096);
          if (r === 1) L(tid, `syscalls:sys_enter_munmap: addr: ${h(at)}, len: ${n}`);
          else if (r === 2) L(tid, `syscalls:sys_enter_mprotect: start: ${h(at)}, len: ${n}, prot: ${h(rnd(8))}`);
          else if (r === 3) L(tid, `syscalls:sys_enter_madvise: start: ${h(at)}, len_in: ${n}, behavior: ${h([4, 14, 15, 21, 8][rnd(5)])}`);
          else L(tid, `exceptions:page_fault_user: address=${h(at + rnd(4096))} ip=0x1 error_code=${h([4, 6, 7, 0x14, 5][rnd(5)])}`);
        }
      }
      const f = join(dir, `random${iter}.txt`);
      writeFileSync(f, lines.join('\n') + '\n');
      const out = join(dir, `random${iter}.spf`);
      expect((await spfperf(['import', '-i', f, '-o', out])).status).toBe(0);
      for (const machine of iter === 0 ? ['x86-16', 'p8-80'] : ['x86-16']) {
        const r = await faults(out, '--check', '--machine', machine);
        expect([iter, machine, r.status, r.rest.trim()]).toEqual([iter, machine, 0, '']);
        expect(r.n).toBeGreaterThan(0);
      }
    }
  });
});
