/**
 * The single binary (scripts/build-binary.mjs -> dist/spfperf-linux-x64), run as a user would:
 * copied alone into an empty directory, run from there with a PATH that has no node, no
 * NODE_PATH or NODE_OPTIONS, and a HOME of its own (its first run unpacks into HOME/.cache). Each
 * command prints what the npm package's bin/spfperf.js prints, byte for byte; check's report and
 * record -g's call chains are the ones that depend on telling the model's frames from the
 * engine's in the bundle (src/trace/bundle-frames.ts).
 *
 * Not part of `npm test` (vitest.config.ts leaves it out: the build writes a ~90 MB file):
 * scripts/check-binary.mjs builds the binary and runs this file (vitest.binary.config.ts), and
 * .ci/run runs that after the suite.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { HAVE_REDIS, startRedis, stopProcess } from '../helpers/redis-server.js';

const BUILT = join(ROOT, 'dist', 'spfperf-linux-x64');
const NPM_BIN = join(ROOT, 'bin', 'spfperf.js');

const DIR = mkdtempSync(join(tmpdir(), 'spfperf-binary-test-'));
/** The empty directory the binary runs in, alone. */
const CWD = join(DIR, 'work');
const HOME = join(DIR, 'home');
/** A PATH with the binary and the few programs the tests need (no node). */
const PATH_DIR = join(DIR, 'path');
const BIN = join(PATH_DIR, 'spfperf');

const ENV: Record<string, string> = { PATH: PATH_DIR, HOME, LANG: 'C.UTF-8' };

beforeAll(() => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run binary (scripts/check-binary.mjs does)`);
  for (const d of [CWD, HOME, PATH_DIR]) mkdirSync(d, { recursive: true });
  copyFileSync(BUILT, BIN);
  chmodSync(BIN, 0o755);
  // script(1) runs its command with sh, and the terminal test sizes the terminal with stty.
  for (const tool of ['sh', 'script', 'stty']) {
    const at = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (at === undefined) throw new Error(`no ${tool} in /usr/bin or /bin`);
    symlinkSync(at, join(PATH_DIR, tool));
  }
  expect(spawnSync('sh', ['-c', 'command -v node'], { env: ENV }).status).not.toBe(0);
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** The binary, run in the empty directory with the bare environment. */
function bin(args: readonly string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(BIN, args, { cwd: CWD, env: { ...ENV, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** The npm package's launcher, same arguments, same directory. */
function npm(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [NPM_BIN, ...args], { cwd: CWD, env: { PATH: process.env.PATH ?? '', HOME, LANG: 'C.UTF-8' }, encoding: 'utf8', maxBuffer: 1 << 26 });
}

const outcome = (r: SpawnSyncReturns<string>) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr });

describe('dist/spfperf-linux-x64, alone in an empty directory', () => {
  test('its first run unpacks its files into the cache directory under HOME, once', () => {
    const r = bin(['--version']);
    expect(outcome(r)).toEqual({ status: 0, stdout: `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
    const cache = join(HOME, '.cache', 'spfperf');
    const builds = readdirSync(cache);
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatch(/^binary-[\d.]+-[0-9a-f]{16}$/);
    expect(readdirSync(join(cache, builds[0])).sort()).toEqual(['dist', 'node_modules', 'package.json', 'twins', 'workloads']);
    expect(bin(['--version']).status).toBe(0);
    expect(readdirSync(cache)).toEqual(builds);
    expect(readdirSync(CWD)).toEqual([]);
  });

  test('list, list --json and a help print what the package prints', () => {
    for (const args of [['list'], ['list', '--json'], ['list', '--workloads'], ['stat', '--help']]) {
      expect(outcome(bin(args)), args.join(' ')).toEqual(outcome(npm(args)));
    }
  });

  test('stat of a shipped workload, and -r 2 on two worker threads', () => {
    for (const args of [['stat', 'page_fault1', 'size=256K'], ['stat', '-r', '4', '--jobs', '2', 'page_fault1', 'size=512K'], ['stat', '-j', '-e', 'faults,spf', '--config', 'dufour-v11', 'ebizzy', 'threads=4', 'seconds=0.001']]) {
      const r = bin(args);
      expect(r.status, r.stderr).toBe(0);
      expect(outcome(r), args.join(' ')).toEqual(outcome(npm(args)));
    }
  });

  test('a bad option or workload: the same one-line message and exit status', () => {
    for (const args of [['stat', 'no-such-workload'], ['stat', '--cpus', 'x', 'page_fault1'], ['bogus']]) {
      const r = bin(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(outcome(r), args.join(' ')).toEqual(outcome(npm(args)));
    }
  });

  test('record -o, then report --stdio and script of the trace', () => {
    const rec = bin(['record', '-o', 'x.ndjson', 'page_fault1', 'size=256K']);
    expect(rec.status, rec.stderr).toBe(0);
    for (const args of [['report', '--stdio', '-i', 'x.ndjson'], ['report', '--stdio', '--sort', 'event,comm', '-i', 'x.ndjson'], ['script', '-i', 'x.ndjson']]) {
      const r = bin(args);
      expect(r.status, r.stderr).toBe(0);
      expect(outcome(r), args.join(' ')).toEqual(outcome(npm(args)));
    }
  });

  test("record -g: the call chains name the model's kernel functions, as the package's do", () => {
    const args = ['record', '-e', 'cpu-clock', '-g', '-o', '-', 'page_fault1', 'size=256K'];
    const r = bin(args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"sym":"do_anonymous_page\+0x[0-9a-f]+"/);
    expect(r.stdout).toBe(npm(args).stdout);
  });

  test('check finds, shrinks and prints the kamezawa lost wake-up as the golden file has it, on one thread and on two', () => {
    const golden = readFileSync(join(ROOT, 'fixtures', 'golden', 'check.split-merge.kamezawa.txt'), 'utf8');
    for (const jobs of ['1', '2']) {
      const r = bin(['check', '--schedules', '40', '-j', jobs, '--config', 'kamezawa', 'split-merge']);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 3, stderr: '' });
      expect(r.stdout, `-j ${jobs}`).toBe(golden);
    }
  });

  test("lock contention names the callers as the package does", () => {
    const args = ['lock', 'contention', '--config', 'per-vma-lock', 'page_fault1', 'size=256K'];
    const r = bin(args);
    expect(r.status, r.stderr).toBe(0);
    expect(outcome(r)).toEqual(outcome(npm(args)));
  });

  test('the ink report view draws its first screen in a terminal and quits on q', async () => {
    expect(bin(['record', '-o', 'tty.ndjson', 'page_fault1', 'size=256K']).status).toBe(0);
    // script(1) gives the binary a pseudo-terminal of 100x30; the view is answered once it has drawn.
    const p = spawn('script', ['-qfec', `stty rows 30 cols 100; spfperf report -i tty.ndjson`, '/dev/null'], { cwd: CWD, env: { ...ENV, TERM: 'xterm' } });
    let out = '';
    let answered = false;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (!answered && out.includes('Overhead  Command') && out.includes('page_fault1.spf:')) {
        answered = true;
        p.stdin.write('q');
      }
    });
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(answered, out).toBe(true);
    expect(code).toBe(0);
    expect(out).toContain('\x1b[?1049h'); // the alternate screen, given back at the end
    expect(out).toContain('\x1b[?1049l');
    expect(out).toMatch(/Samples: \d+K? of event 'faults'/);
  });

  test("sweep --plot, and plot to SVG and PNG: the table and the pictures the package draws, byte for byte", () => {
    // The PNG goes through resvg's native addon and the DejaVu fonts, files of the unpacked tree.
    const sweep = (dir: string) => ['sweep', '--cpus', '1,2', '--config', 'base,per-vma-lock', '-r', '2', '-o', dir, '--plot', `${dir}.png`, 'page_fault1', 'size=256K'];
    const b = bin(sweep('b'));
    expect(b.status, b.stderr).toBe(0);
    const n = npm(sweep('n'));
    expect(b.stdout).toBe(n.stdout);
    expect(readFileSync(join(CWD, 'b.png')).equals(readFileSync(join(CWD, 'n.png')))).toBe(true);
    for (const ext of ['svg', 'png']) {
      const r = bin(['plot', 'b', '-o', `b2.${ext}`]);
      expect(r.status, r.stderr).toBe(0);
      expect(npm(['plot', 'b', '-o', `n2.${ext}`]).status).toBe(0);
      expect(readFileSync(join(CWD, `b2.${ext}`)).equals(readFileSync(join(CWD, `n2.${ext}`))), ext).toBe(true);
    }
    expect(readFileSync(join(CWD, 'b2.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  (HAVE_REDIS ? test : test.skip)('a worker and a sweep on the job queue (a real redis-server): the table a local sweep prints', async () => {
    const redis = await startRedis();
    const worker = spawn(BIN, ['worker', '--queue', redis.url], { cwd: CWD, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const args = ['--cpus', '1,2', '--config', 'base,per-vma-lock', '-r', '1', 'page_fault1', 'size=256K'];
      const queued = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const p = spawn(BIN, ['sweep', '--queue', redis.url, '-o', 'queued', ...args], { cwd: CWD, env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
        p.on('close', (status) => resolve({ status, stdout: out }));
      });
      expect(queued.status).toBe(0);
      expect(queued.stdout).toBe(npm(['sweep', '-o', 'local', ...args]).stdout);
    } finally {
      await stopProcess(worker);
      await redis.stop();
    }
  });

  test('calibrate builds the twins from the C sources the binary carries', () => {
    const r = spawnSync(BIN, ['calibrate', '--machine', 'x86-vm16', '--cpus', '1', '-r', '1', '--json', 'page_fault1', 'size=256K', 'iterations=1'], {
      cwd: CWD,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { workload: string; faultsSim: number });
    expect(rows.map((w) => w.workload).sort()).toEqual(['page_fault1_processes', 'page_fault1_threads']);
  });

  test('two first runs at once both run, and leave one unpacked tree', async () => {
    const cache = join(DIR, 'cache-race');
    const runs = [0, 1].map(
      () =>
        new Promise<number | null>((resolve) => {
          const p = spawn(BIN, ['list', '--workloads'], { cwd: CWD, env: { ...ENV, SPFPERF_CACHE_DIR: cache }, stdio: 'ignore' });
          p.on('close', resolve);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0]);
    expect(readdirSync(cache).filter((f) => f.startsWith('binary-'))).toHaveLength(1);
    expect(readdirSync(cache).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('a file gone from the unpacked tree (a cleaner of old files): the next run unpacks it again', () => {
    const cache = join(HOME, '.cache', 'spfperf');
    const [build] = readdirSync(cache).filter((f) => f.startsWith('binary-'));
    const chunk = readdirSync(join(cache, build, 'dist')).find((f) => /^spfperf-.*\.mjs$/.test(f));
    expect(chunk).toBeDefined();
    rmSync(join(cache, build, 'dist', chunk!));
    expect(outcome(bin(['list', '--workloads']))).toEqual(outcome(npm(['list', '--workloads'])));
    expect(existsSync(join(cache, build, 'dist', chunk!))).toBe(true);
    expect(readdirSync(cache).filter((f) => f.startsWith('binary-'))).toEqual([build]);
  });

  test('a cache directory it cannot write: one line naming it, exit 70', () => {
    const file = join(DIR, 'a-file');
    writeFileSync(file, '');
    const r = bin(['list'], { SPFPERF_CACHE_DIR: join(file, 'cache') });
    expect(r.status).toBe(70);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`spfperf: cannot unpack the binary's files into ${join(file, 'cache')}: ENOTDIR: not a directory, mkdir '${join(file, 'cache')}'; set SPFPERF_CACHE_DIR to a writable directory\n`);
  });
});
