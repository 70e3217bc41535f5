/**
 * The CLI as a real process: what in-process runs (test/helpers/cli.ts) cannot show. The launcher
 * (bin/spfperf.js -> dist/), exit statuses and stderr of the process, pipes between two spfperf
 * processes, and a reader that goes away (EPIPE). Runs the built dist/: build first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { Capture } from '../helpers/cli.js';
import { main } from '../../src/cli.js';
import { Readable, Writable } from 'node:stream';

const BIN = join(ROOT, 'bin', 'spfperf.js');
const node = (args: readonly string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SPFPERF_DEBUG: '' } });
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });

describe('spfperf as a process', () => {
  it('--version prints the package version', () => {
    const r = node(['--version']);
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('runs a small stat: counters on stderr, nothing on stdout, exit 0', () => {
    const r = node(['stat', '-e', 'faults', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=1M']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Performance counter stats for 'page_fault1 threads=1 iterations=1 size=1M':\n\n +256 +faults/);
  });

  it('stat --check runs with the sync check on and prints the same counts', () => {
    const args = ['stat', '-e', 'faults', '--cpus', '2', '--config', 'spf', 'page_fault1', 'threads=2', 'iterations=1', 'size=1M'];
    const plain = node(args);
    const checked = node([...args, '--check']);
    expect(checked.status).toBe(0);
    expect(checked.stderr.replace(/--check/, '')).toBe(plain.stderr);
  });

  it('an error is one line on stderr and its exit status', () => {
    const r = node(['stat', '-e', 'faults', 'no-such-workload']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^spfperf: workload 'no-such-workload' not found: [^\n]*\n$/);
    const syntax = node(['stat', 'fixtures/workloads/bad-syntax.spf']);
    expect(syntax.status).toBe(2);
  });

  it('record -o - | report -i - through a pipe', () => {
    const run = '-e faults --cpus 2 ebizzy threads=2 seconds=0.001s';
    const r = sh(`node bin/spfperf.js record -o - ${run} | node bin/spfperf.js report --stdio -i - --sort comm`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("of event 'faults'");
    expect(r.stdout).toContain('# Total Lost Samples: 0');
    expect(r.stderr).toMatch(/^\[ spfperf record: Captured and wrote [\d.]+ MB \(stdout\) \(\d+ samples\) \]\n$/);
  });

  it('ends quietly when its reader goes away (list | head -1; script | head -2, EPIPE)', () => {
    // spfperf's own exit status goes to stderr, after anything it printed there.
    const l = sh('{ node bin/spfperf.js list; echo "exit $?" >&2; } | head -1');
    // On a pipe, perf list's first line is an event (its heading is for terminals only).
    expect(l.stdout).toBe('  context-switches OR cs                             [Software event]\n');
    expect(l.stderr).toBe('exit 0\n');
    // Output well past a pipe's buffer (64 KiB), so the writes after head exits fail with EPIPE.
    const rec = 'node bin/spfperf.js record -o - -e faults --cpus 2 ebizzy threads=2 seconds=0.002s 2>/dev/null';
    const s = sh(`${rec} | { node bin/spfperf.js script -i -; echo "exit $?" >&2; } | head -2`);
    expect(s.stdout.split('\n')).toHaveLength(3);
    expect(s.stderr).toBe('exit 0\n');
  });

  it('a full disk on stdout (> /dev/full) is one line on stderr and exit 1, for every command that writes there', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const T = 'fixtures/traces/ebizzy-faults.ndjson';
      for (const args of [
        ['script', '-i', T],
        ['report', '--stdio', '-i', T],
        ['list'],
        ['list', '--json'],
        ['diff', T, T],
        ['--help'],
        ['record', '-o', '-', '-e', 'faults', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K'],
        ['stat', '--compare', 'base,spf', '-e', 'faults', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K'],
      ]) {
        const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', full, 'pipe'], env: { ...process.env, SPFPERF_DEBUG: '' } });
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(/^(\[ spfperf record: [^\n]*\n)?spfperf: cannot write to stdout: No space left on device\n$/);
      }
    } finally {
      closeSync(full);
    }
  });

  it('in-process too: a write error on the output stream is exit 1 with one line, not an internal error (70)', async () => {
    const failing = new Writable({
      write: (_c, _e, cb) => cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', errno: -28 })),
    });
    failing.on('error', () => {});
    const err = new Capture();
    const T = join(ROOT, 'fixtures/traces/ebizzy-faults.ndjson');
    const code = await main(['diff', T, T], { stdout: failing, stderr: err, stdin: Readable.from([]), isTTY: { stdout: false, stderr: false, stdin: false }, env: {} });
    expect(code).toBe(1);
    expect(err.text).toBe('spfperf: cannot write the output: No space left on device\n');
  });

  it('record under SIGTERM (kill): a whole trace marked stopped, no FILE.tmp left, exit 143', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-term-'));
    try {
      const child = spawn(process.execPath, [BIN, 'record', '-o', 'long.ndjson', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=10s'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      // Wait until the recording is under way (its FILE.tmp has a first ~1 MB chunk: the run has
      // started, and SIGTERM is taken), not for a fixed time.
      const tmpFile = join(dir, 'long.ndjson.tmp');
      while (!existsSync(tmpFile) || statSync(tmpFile).size === 0) await new Promise((res) => setImmediate(res));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(stderr).toMatch(/^spfperf: record stopped \(SIGTERM\)/);
      expect(readdirSync(dir)).toEqual(['long.ndjson']);
      const last = readFileSync(join(dir, 'long.ndjson'), 'utf8').trim().split('\n').at(-1)!;
      expect(JSON.parse(last)).toMatchObject({ type: 'summary', stopped: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
