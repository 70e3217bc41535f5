/**
 * The real twins of the shipped workloads (twins/*.c): which there are, building them with the
 * system C compiler into a cache directory outside the source tree, and running one, under
 * `perf stat` when perf is allowed. The only module of src/calibrate that runs programs.
 *
 * A twin takes the workload's own parameters (threads=N, its fixed-work count such as
 * iterations=N, and the others its workload has: mode=, size=, chunks=, ...) and prints one line
 * of `key=value` fields at exit (twins/twin.h): its ops, the time it ran, its tasks' own faults in
 * their rounds, and getrusage()'s faults and CPU time.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statfsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePerfStat, perfTotals } from './perf-stat.js';

/** One twin: a C source of twins/ and the shipped workload it mirrors, in one mode. */
export interface Twin {
  /** As the real benchmark names its runs: page_fault1_threads (will-it-scale), ebizzy_mTt (its flags), ... */
  readonly name: string;
  /** The shipped workload the model runs (workloads/<workload>.spf). */
  readonly workload: string;
  /** The C file (twins/<source>.c) and the binary built from it. */
  readonly source: string;
  /** Parameters both the twin and the model are given that make this twin's mode (not settable). */
  readonly fixed: readonly string[];
  /**
   * The parameters a user may set (`name=value` on calibrate's command line), with calibrate's
   * defaults; both sides are given them all. One of them is `work`.
   */
  readonly defaults: Readonly<Record<string, string>>;
  /** The fixed-work parameter (a count >= 1; 0 in the empty run): `iterations`, or multi-fault's `rounds`. */
  readonly work: string;
  /**
   * What else the model's empty run is given besides `work`=0: a workload that is time-bound
   * when its count is 0 (ebizzy, pft) also gets `seconds=0`, so that it does no work either.
   */
  readonly emptyModel: readonly string[];
  /** The model's counter that counts what the twin's `ops` count (pages written, records). */
  readonly ops: string;
  /** Whether the twin maps files (it is given a tmpfs dir=). */
  readonly files: boolean;
}

/** will-it-scale's page_fault1..3, each with threads and with processes. Per task: 2 rounds of 64 MiB. */
const PAGE_FAULT_TWINS: readonly Twin[] = ['page_fault1', 'page_fault2', 'page_fault3'].flatMap((w) =>
  (['threads', 'processes'] as const).map((mode) => ({
    name: `${w}_${mode}`,
    workload: w,
    source: w,
    fixed: [`mode=${mode}`],
    defaults: { iterations: '2', size: '64M' },
    work: 'iterations',
    emptyModel: ['seconds=0'],
    ops: 'ops',
    files: w !== 'page_fault1',
  })),
);

/**
 * ebizzy in the three modes the issue names (its flags as workloads/ebizzy.spf maps them; `t` is
 * the thread count), with the published runs' 10 chunks of 512 KiB. A -mT record is 128 faults,
 * an -R record one: the record counts make each real run take about 0.1-0.3 s on the 2-vCPU KVM
 * guest they were last chosen on (three times the counts chosen on a PVM guest, whose faults
 * cost 6-8 times as much: runs of 20-40 ms gave 2-thread scalings that moved by +-25 % from one
 * run of the verb to the next; the whole default run takes ~27 s there).
 */
const EBIZZY_TWINS: readonly Twin[] = (
  [
    ['mTt', 300, 0, 0],
    ['mTRp', 15000, 1, 1],
    ['mRTt', 15000, 1, 0],
  ] as const
).map(([flags, records, random, permissions]) => ({
  name: `ebizzy_${flags}`,
  workload: 'ebizzy',
  source: 'ebizzy',
  fixed: ['mmap=1', 'touch=1', `random_size=${random}`, `permissions=${permissions}`],
  defaults: { iterations: String(records), chunks: '10', chunk_size: '512K' },
  work: 'iterations',
  emptyModel: ['seconds=0'],
  ops: 'records',
  files: false,
}));

export const TWINS: readonly Twin[] = [
  ...PAGE_FAULT_TWINS,
  ...EBIZZY_TWINS,
  // The published layout (8 MiB spans, 2 MiB faulted), 60 rounds: 30720 faults per thread.
  { name: 'multi-fault', workload: 'multi-fault', source: 'multi-fault', fixed: [], defaults: { rounds: '60', span: '8M', area: '2M' }, work: 'rounds', emptyModel: [], ops: 'faults', files: false },
  // 2 pft runs of 64 MiB: 32768 faults split among the threads.
  { name: 'pft', workload: 'pft', source: 'pft', fixed: [], defaults: { iterations: '2', size: '64M' }, work: 'iterations', emptyModel: ['seconds=0'], ops: 'faults', files: false },
];

/** The package's twins/ directory (this module is src/calibrate/twins.ts or dist/calibrate/twins.js). */
export function twinsSourceDir(): string {
  return fileURLToPath(new URL('../../twins/', import.meta.url));
}

type Env = Readonly<Record<string, string | undefined>>;

/** Where built twins are kept: $SPFPERF_CACHE_DIR, else $XDG_CACHE_HOME/spfperf, else ~/.cache/spfperf. */
export function cacheDir(env: Env): string {
  if (env.SPFPERF_CACHE_DIR) return env.SPFPERF_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'spfperf');
  const home = env.HOME ?? homedir();
  return home ? join(home, '.cache', 'spfperf') : join(tmpdir(), 'spfperf-cache');
}

/** The compiler calibrate uses: $CC, else `cc`. */
export function compilerOf(env: Env): string {
  return env.CC && env.CC.trim() !== '' ? env.CC.trim() : 'cc';
}

/** Whether `cc` runs at all (null), or why not (a sentence for the user). */
export function compilerProblem(cc: string): string | null {
  const r = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (r.error) return `no C compiler: '${cc}' cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install one (e.g. gcc) or set CC`;
  if (r.status !== 0) return `the C compiler '${cc}' fails to run ('${cc} --version' exited with ${r.status})`;
  return null;
}

export class TwinBuildError extends Error {}

/**
 * Build the twins' binaries (once per version of twins/ and the compiler: the cache directory is
 * named by a hash of both) and return the directory that holds them.
 */
export function buildTwins(sources: readonly string[], env: Env): string {
  const src = twinsSourceDir();
  const cc = compilerOf(env);
  const h = createHash('sha256').update(cc);
  // Every source of twins/: the directory is the same whichever twins a call builds.
  for (const f of readdirSync(src).filter((f) => /\.[ch]$/.test(f)).sort()) h.update(f).update(readFileSync(join(src, f)));
  const dir = join(cacheDir(env), `twins-${h.digest('hex').slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  for (const s of sources) {
    const bin = join(dir, s);
    if (existsSync(bin)) continue;
    // Build beside the target and rename: two calls building at once never see half a binary.
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync(cc, ['-O2', '-pthread', '-o', tmp, join(src, `${s}.c`)], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new TwinBuildError(`cannot build twin ${s} with '${cc}': ${r.error?.message ?? r.stderr.trim()}`);
    renameSync(tmp, bin);
  }
  return dir;
}

/** Linux's TMPFS_MAGIC (statfs f_type). */
const TMPFS_MAGIC = 0x01021994;

/** A tmpfs directory for the file twins (the model's /tmp is tmpfs), or null when there is none. */
export function tmpfsDir(): string | null {
  for (const d of ['/dev/shm', '/tmp', tmpdir()]) {
    try {
      if (statfsSync(d).type === TMPFS_MAGIC) return d;
    } catch {
      // not there: try the next
    }
  }
  return null;
}

/** What one run of a twin measured. */
export interface TwinRun {
  readonly ops: number;
  /** The tasks' own faults inside their rounds (RUSAGE_THREAD around the loop: no start-up). */
  readonly loopFaults: number;
  readonly elapsedNs: number;
  /** page-faults: perf's count, or getrusage's minflt + majflt. */
  readonly faults: number;
  /** CPU time of the whole run (perf's task-clock, or getrusage's user + system). */
  readonly cpuNs: number;
  readonly source: 'perf' | 'getrusage';
}

/** The `key=value` fields of a twin's report line. */
export function parseTwinLine(text: string): Map<string, string> {
  const line = text.split('\n').find((l) => l.startsWith('twin='));
  if (line === undefined) throw new TwinBuildError(`a twin printed no report line: ${JSON.stringify(text.slice(0, 200))}`);
  return new Map(line.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

const PERF_EVENTS = 'page-faults,task-clock';

/** Whether `perf stat` can count page-faults and task-clock here (null), or why not. */
export function perfProblem(env: Env): string | null {
  if (env.SPFPERF_NO_PERF === '1') return 'SPFPERF_NO_PERF=1';
  const r = spawnSync('perf', ['stat', '-x,', '-e', PERF_EVENTS, '--', 'true'], { encoding: 'utf8' });
  if (r.error) return `perf cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  const t = perfTotals(parsePerfStat(r.stderr));
  if (r.status !== 0 || !t.has('page-faults') || !t.has('task-clock')) return `perf stat is not allowed here (${r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`})`;
  return null;
}

/** Run one twin binary with its parameters (under perf stat when `perf`), and read what it measured. */
export function runTwin(bin: string, args: readonly string[], perf: boolean): TwinRun {
  const cmd = perf ? 'perf' : bin;
  const argv = perf ? ['stat', '-x,', '-e', PERF_EVENTS, '--', bin, ...args] : [...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error || r.status !== 0) throw new TwinBuildError(`twin ${bin} ${args.join(' ')} failed: ${r.error?.message ?? `exit ${r.status}: ${r.stderr.trim()}`}`);
  const f = parseTwinLine(r.stdout);
  const num = (k: string): number => {
    const v = Number(f.get(k));
    if (!Number.isFinite(v)) throw new TwinBuildError(`twin ${bin}: no number for '${k}' in its report line`);
    return v;
  };
  const base = { ops: num('ops'), loopFaults: num('loop_faults'), elapsedNs: num('elapsed_ns') };
  if (perf) {
    const t = perfTotals(parsePerfStat(r.stderr));
    const faults = t.get('page-faults');
    const clockMs = t.get('task-clock');
    if (faults !== undefined && clockMs !== undefined) return { ...base, faults, cpuNs: clockMs * 1e6, source: 'perf' };
  }
  return { ...base, faults: num('minflt') + num('majflt'), cpuNs: num('utime_ns') + num('stime_ns'), source: 'getrusage' };
}
