/**
 * The command table (loaded lazily) and the one place where errors become exit codes:
 *   UsageError -> its code (1), WorkloadSyntaxError / ConfigError -> 2, SimulationError -> 3,
 *   ViolationError (an invariant of the model broken, docs/invariants.md) -> 4,
 *   InterruptedError (a second Ctrl-C) -> 130, anything else -> 70 with a one-line message (the
 *   stack only with SPFPERF_DEBUG=1).
 *
 * `main(argv, io)` runs one command line against the streams, terminal flags, environment and
 * Ctrl-C of `io` and returns the exit code; it touches nothing of the real process (src/main.ts
 * does that), so tests run the whole CLI in-process. Each call builds its own Command tree: no
 * state is carried from one call to the next.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Help, Option } from 'commander';
import { ConfigError, errnoText, InterruptedError, SimulationError, UsageError, WorkloadSyntaxError } from './errors.js';
import { ViolationError } from './check/violation.js';
import type { CliIo } from './io.js';
import { ARCH_VALUES, CONFIG_PRESET_VALUES, MACHINE_VALUES, LOCK_SORT_VALUES, REPORT_DEFAULT_SORT, REPORT_SORT_VALUES, SCRIPT_FIELD_VALUES } from './cli-values.js';

// Read with require: an import of JSON is still experimental in Node 20 (a warning on stderr).
const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const collect = (v: string, prev: string[]): string[] => [...prev, v];
/** collect() with no default shown in the help (absent: undefined). */
const collectList = (v: string, prev: string[] = []): string[] => [...prev, v];

function commonRunOptions(c: Command): Command {
  return c
    .option('--arch <arch>', `architecture profile on a bare-metal 16-CPU machine of it: ${ARCH_VALUES.join(', ')}`)
    .option('--machine <name>', `machine preset (${MACHINE_VALUES.filter((m) => m !== 'host').join(', ')}), a machine file (a path, or NAME.json: docs/machines.md), or host: this machine, read from /sys and /proc (spfperf list --machines)`)
    .option('--cpus <n>', 'number of simulated CPUs (default: the machine\'s)')
    .option('--sockets <n>', 'reshape the machine: this many sockets (its memory and costs kept)')
    .option('--cores-per-socket <n>', 'reshape the machine: this many cores a socket')
    .option('--threads-per-core <n>', 'reshape the machine: this many SMT threads a core')
    .option('--config <name|file|KEY=VALUE>', `kernel config: a preset (${CONFIG_PRESET_VALUES.join(', ')}), a .config file, or KEY=VALUE (keys: spfperf list --configs); may repeat, later wins`, collect, [])
    .option('--seed <n>', 'seed of the simulation\'s PRNG', '1')
    .option('--check', 'check the model as it runs: the engine\'s sync rule on every shared cache-line access and the model\'s invariants (docs/invariants.md); a violation exits 4 (slower)');
}

/**
 * The command tree for one call. Each action stores its command's exit code in `result.code`
 * (commander's parseAsync has no return value of its own).
 *
 * A verb's options are added to its command only when they are needed: when the verb is parsed
 * (commander's preSubcommand hook) or a help is formatted, the verb's own or the one that lists
 * the verbs (each verb's usage there says `[options]` when it has some). Adding all ~60 options
 * of the table for every command line cost a start-up ~1.5 ms (docs/performance.md, Start-up);
 * the helps are golden files (test/cli.test.ts).
 */
export function buildProgram(io: CliIo, result: { code: number }): Command {
  const program = new Command();
  const pending = new Map<Command, (c: Command) => Command>();
  const withOptions = (c: Command): void => {
    pending.get(c)?.(c);
    pending.delete(c);
  };
  /** A subcommand whose options `options` adds when they are needed. */
  const verb = (name: string, options: (c: Command) => Command): Command => {
    const c = program.command(name);
    pending.set(c, options);
    return c;
  };
  // Before the subcommands are added: they inherit the output settings.
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    getOutHelpWidth: () => (io.isTTY.stdout && io.columns ? io.columns : 80),
    getErrHelpWidth: () => 80,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  // Every help is formatted here (inherited by the verbs): `--help`, `help VERB`, no verb at all.
  program.configureHelp({
    formatHelp(this: Help, cmd: Command, helper: Help): string {
      withOptions(cmd);
      for (const c of cmd.commands) withOptions(c);
      return Help.prototype.formatHelp.call(this, cmd, helper);
    },
  });
  program.hook('preSubcommand', (_program, sub) => withOptions(sub));
  program
    .name('spfperf')
    .description('perf-style simulator of the Linux page-fault path under speculative page-fault designs')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  verb('stat', (c) =>
    commonRunOptions(
      c
        .option('-e, --event <events>', 'events to count: comma-separated, globs allowed, may repeat', collect, [])
        .option('-o, --output <file>', 'write the counters to a file instead of stderr')
        .option('--vmstat', 'print the run\'s /proc/vmstat lines after the counters')
        .option('-x, --field-separator <sep>', 'print counts in CSV with this separator (perf stat -x)')
        .option('-j, --json', 'print counts as JSON lines (perf stat -j)')
        .option('-r, --repeat <n>', 'run N times with seeds seed..seed+N-1; print means and variance')
        .option('-I, --interval-print <ms>', 'print counts every MS milliseconds of simulated time')
        .option('--per-thread', 'counts per thread (comm-tid)')
        .option('--save <file>', 'write the run as one JSON document (what diff reads); with --compare, a prefix: PREFIX.<config>.json each')
        .option('--compare <configs>', 'run under each of these comma-separated configs (3 seeds each unless -r) and print a diff table')
        // Not -j: that is --json, as in perf stat.
        .option('--jobs <n>', 'runs of -r/--compare at once, on worker threads (default: one per core; 1: one after another)'),
    ),
  )
    .description('run a workload on the model and print perf-stat counters (to stderr, like perf)')
    .argument('<workload>', 'a shipped workload name (spfperf list --workloads) or a .spf file')
    .argument('[params...]', 'workload parameters as name=value')
    .action(async (workload: string, params: string[], opts) => {
      // The pool's workers (-r, --compare) start now and load the model beside this thread.
      if (opts.compare !== undefined || Number(opts.repeat) > 1) (await import('./pool/spare.js')).prestartWorkers(opts.compare !== undefined ? Infinity : Number(opts.repeat), opts.jobs);
      const { run } = await import('./commands/stat.js');
      result.code = await run(workload, params, opts, io);
    });

  verb('sweep', (c) =>
    c
      .option('--cpus <list>', 'CPU counts, one point each: 1,2,4,8,16; ranges 1-16; series 1..176:x2 or 1..64:+8 (the end included); may repeat', collectList)
      .option('--config <configs>', `kernel configs, one point each, comma-separated; the --config items of one joined with + (dufour-v11+kernel=5.0); presets: ${CONFIG_PRESET_VALUES.join(', ')}; may repeat`, collectList)
      .option('--machine <list>', `machine presets, one point each, comma-separated (${MACHINE_VALUES.join(', ')}); may repeat`, collectList)
      .option('--arch <arch>', `without --machine: a bare-metal machine of this architecture: ${ARCH_VALUES.join(', ')}`)
      .option('--sockets <n>', 'reshape each machine: this many sockets (its memory and costs kept)')
      .option('--cores-per-socket <n>', 'reshape each machine: this many cores a socket')
      .option('--threads-per-core <n>', 'reshape each machine: this many SMT threads a core')
      .option('-r, --repeat <n>', 'runs a point, seeds seed..seed+N-1 (default 1); the table gives their noise')
      .option('--seed <n>', 'seed of the first run of each point', '1')
      .option('-o, --output <dir>', 'directory of DIR/sweep.json (the index) and DIR/points/*.json (a stat --save document a point)', 'sweep')
      .option('--force', 'write into a directory that is not empty and holds no sweep')
      .option('-x, --field-separator <sep>', 'print the table as CSV with this separator (a header line, a line a point)')
      .option('-j, --json', 'print the table as JSON lines (an object a point)')
      .option('--jobs <n>', 'runs at once, on worker threads (default: one per core; 1: one after another)')
      .option('--queue <url>', 'put the runs on the job queue of this Redis server (redis://HOST:PORT/DB) for spfperf worker processes on any host to run (docs/fleet.md)')
      .option('--plot <file>', 'at the end, draw the sweep as spfperf plot does with its defaults: FILE.svg or FILE.png (docs/plot.md)')
      .option('--check', 'check the model as it runs (as stat --check; slower)'),
  )
    .description('run a workload over a grid of machines, configs, CPU counts and parameters; save each point and print a table (docs/sweep.md)')
    .argument('<workload>', 'a shipped workload name (spfperf list --workloads) or a .spf file')
    .argument('[params...]', 'workload parameters as name=value; name=a,b,c makes the parameter an axis')
    .action(async (workload: string, params: string[], opts) => {
      const { run } = await import('./commands/sweep.js');
      result.code = await run(workload, params, opts, io);
    });

  verb('record', (c) =>
    commonRunOptions(
      c
        .option('-e, --event <events>', 'events to record (default: faults and every pagefault:*)', collect, [])
        .option('-o, --output <file>', 'output file, or - for stdout', 'spfperf.ndjson')
        .option('--stat', 'also print the stat counters at the end')
        .option('-F, --freq <n>', 'cpu-clock: samples per second of simulated time, per CPU (default 4000)')
        .option('-c, --count <ns>', 'cpu-clock: nanoseconds of simulated time between two samples of a CPU')
        .option('-g', 'cpu-clock: record each sample\'s call chain (perf record -g)')
        .option('--off-cpu', 'cpu-clock: also an offcpu-time sample for each sleep, its length as the period (perf record --off-cpu)'),
    ),
  )
    .description('run a workload and write its events as NDJSON (header, samples, summary)')
    .argument('<workload>', 'a shipped workload name or a .spf file')
    .argument('[params...]', 'workload parameters as name=value')
    .action(async (workload: string, params: string[], opts) => {
      const { run } = await import('./commands/record.js');
      result.code = await run(workload, params, opts, io);
    });

  verb('check', (c) =>
    c
      .option('--schedules <n>', 'schedules to run (default 1000)')
      .option('--strategy <name>', 'how schedules choose: pct (default) or random')
      .option('--depth <d>', 'pct: the bug depth d, with d-1 priority change points (default 3)')
      .option('--seed <n>', 'seed of the schedules (default 1)')
      .option('--replay <id>', 'run one schedule by its id (as a report prints it) and print its report')
      .option('--trace <file>', 'write the failing (shrunk) run, or the replayed one, as an NDJSON trace that script and report read')
      .option('-j, --jobs <n>', 'schedules at once, on worker threads (default: one per core; 1: one after another)')
      .option('--arch <arch>', `architecture profile on a bare-metal 16-CPU machine of it: ${ARCH_VALUES.join(', ')}`)
      .option('--machine <name>', `machine preset (${MACHINE_VALUES.filter((m) => m !== 'host').join(', ')}), a machine file (a path, or NAME.json), or host`)
      .option('--cpus <n>', 'number of simulated CPUs (default: the machine\'s)')
      .option('--sockets <n>', 'reshape the machine: this many sockets (its memory and costs kept)')
      .option('--cores-per-socket <n>', 'reshape the machine: this many cores a socket')
      .option('--threads-per-core <n>', 'reshape the machine: this many SMT threads a core')
      .option('--config <name|file|KEY=VALUE>', `kernel config: a preset (${CONFIG_PRESET_VALUES.join(', ')}), a .config file, or KEY=VALUE; may repeat, later wins`, collect, []),
  )
    .description('explore a workload\'s schedules for a broken invariant; print, shrink and replay it (docs/check.md)')
    .argument('<workload>', 'a shipped workload name or a .spf file')
    .argument('[params...]', 'workload parameters as name=value')
    .action(async (workload: string, params: string[], opts) => {
      const { run } = await import('./commands/check.js');
      result.code = await run(workload, params, opts, io);
    });

  verb('report', (c) =>
    c
      .option('-i, --input <file>', 'trace file, or - for stdin', 'spfperf.ndjson')
      .option('-s, --sort <keys>', `sort keys, comma-separated: ${REPORT_SORT_VALUES.join(', ')}`, REPORT_DEFAULT_SORT)
      .option('--stdio', 'plain text output even on a terminal')
      .option('-F, --fields <fields>', 'columns to show')
      .option('-g', 'draw the call graph under each entry (the default for a trace with call chains: record -g -e cpu-clock)')
      .option('--children', 'call chains: each function an entry, with its callees\' samples (Children) beside its own (Self); perf\'s default')
      .option('--no-children', 'call chains: only the sampled functions, their callers under them'),
  )
    .description('summarise a recorded trace, perf-report style')
    .action(async (opts) => {
      const { run } = await import('./commands/report.js');
      result.code = await run(opts, io);
    });

  verb('script', (c) =>
    c
      .option('-i, --input <file>', 'trace file, or - for stdin', 'spfperf.ndjson')
      .option('-F, --fields <fields>', `fields to print, comma-separated: ${SCRIPT_FIELD_VALUES.join(', ')}`),
  )
    .description('print a recorded trace one event per line, perf-script style')
    .action(async (opts) => {
      const { run } = await import('./commands/script.js');
      result.code = await run(opts, io);
    });

  verb('import', (c) =>
    c
      .option('-i, --input <file>', 'perf script text or an spfperf trace, or - for stdin', '-')
      .option('-o, --output <file>', 'the workload script to write (never the input), or - for stdout', '-')
      .option('--format <name>', 'input format: perf-script or ndjson (default: ndjson when the input starts with a JSON line, spfperf record\'s header)')
      .option('--time-scale <x>', 'multiply the replayed gaps between a thread\'s events by X', '1')
      .option('--skip-bad', 'skip lines that are not perf script text (and say how many) instead of stopping at the first'),
  )
    .description('turn a perf script recording of a real program\'s mmap/munmap/mprotect/madvise calls and page faults into a workload script (docs/import.md)')
    .action(async (opts) => {
      const { run } = await import('./commands/import.js');
      result.code = await run(opts, io);
    });

  program
    .command('diff')
    .description('compare saved runs (stat --save files or record summaries), perf-diff style; two cpu-clock recordings as perf diff compares profiles')
    .argument('<files...>', 'two or more files; deltas are against the first')
    .action(async (files: string[]) => {
      const { run } = await import('./commands/diff.js');
      result.code = await run(files, io);
    });

  verb('calibrate', (c) =>
    commonRunOptions(
      c
        .option('-r, --repeat <n>', 'real runs per point, medians taken (default 5)')
        .option('--remeasure', 'measure the host\'s costs again (--machine host; else they are measured once and cached)')
        .option('--json', 'one JSON object per workload and thread count'),
    ),
  )
    .description('run the workloads\' real twins on this machine beside the model of it (docs/calibrate.md)')
    .argument('[workloads...]', 'twins to run (default all), and iterations=N size=BYTES')
    .action(async (args: string[], opts) => {
      const { run } = await import('./commands/calibrate.js');
      result.code = await run(args, opts, io);
    });

  verb('lock', (lock) => {
    commonRunOptions(
      lock
        .command('contention')
        .description('run a workload and print its lock waits as perf lock contention does (to stderr, like perf), then the cache-line transfers')
        .usage('[options] -- <workload> [params...]')
        .argument('[workload]', 'a shipped workload name (spfperf list --workloads) or a .spf file')
        .argument('[params...]', 'workload parameters as name=value')
        .option('-k, --key <key>', `key for sorting: ${LOCK_SORT_VALUES.join(', ')} (default: wait_total)`)
        .option('--sort <key>', 'the same as --key')
        .option('-F, --field <fields>', `keys to print, comma-separated, from: ${LOCK_SORT_VALUES.join(', ')} (default: contended,wait_total,wait_max,avg_wait; the sort key is added if missing)`)
        .option('-E, --entries <n>', 'display this many entries')
        .option('-l, --lock-addr', 'by lock: its address and kernel name (mmap_lock, ptl, mm_rb_lock, zone->lock, ...)')
        .option('-t, --threads', 'by task: tid and comm')
        .option('--no-lines', 'leave out the table of cache-line transfers')
        .option('-i, --input <file>', 'read the waits of a lock record trace (- for stdin) instead of running a workload')
        .option('--output <file>', 'write the tables to a file instead of stderr'),
    ).action(async (workload: string | undefined, params: string[], opts) => {
      const { run } = await import('./commands/lock.js');
      result.code = await run('contention', workload === undefined ? [] : [workload, ...params], opts, io);
    });
    commonRunOptions(
      lock
        .command('record')
        .description('run a workload and write its lock waits as a trace (lock:contention_begin/end) that lock contention -i reads')
        .usage('[options] -- <workload> [params...]')
        .argument('[workload]', 'a shipped workload name (spfperf list --workloads) or a .spf file')
        .argument('[params...]', 'workload parameters as name=value')
        .option('-o, --output <file>', 'output file, or - for stdout', 'spfperf.ndjson'),
    ).action(async (workload: string | undefined, params: string[], opts) => {
      const { run } = await import('./commands/lock.js');
      result.code = await run('record', workload === undefined ? [] : [workload, ...params], opts, io);
    });
    return lock;
  }).description('lock waits of a run on the model, perf-lock style (docs/lock.md)');

  verb('plot', (c) =>
    c
      .option('-o, --output <file>', 'the picture: FILE.svg or FILE.png; its vega-lite spec, data inlined, is written beside it as FILE.vl.json', 'plot.svg')
      .option('--y <name>', "what to draw: the workload's metric (default, as stat prints it: workload:ops/s), an event (faults, spf, pagefault:spf_vma_changed), count:NAME, a vmstat line, elapsed, user or sys")
      .option('--x <axis>', 'the sweep axis along x (default: cpus); a word axis is drawn in sweep order')
      .option('--normalize <config>', "divide each point by this config's mean at the same coordinates"),
  )
    .description('draw a sweep\'s results as line charts: a line per config, error bars from the seeds, a panel per machine (docs/plot.md)')
    .argument('<sweep>', 'the sweep.json that spfperf sweep wrote, or its directory')
    .action(async (sweep: string, opts) => {
      const { run } = await import('./commands/plot.js');
      result.code = await run(sweep, opts, io);
    });

  verb('worker', (c) =>
    c
      .option('--queue <url>', 'the job queue\'s Redis server: redis://HOST:PORT/DB')
      .option('--concurrency <n>', 'jobs at once, on worker threads (default: one per core)')
      .option('-q, --quiet', 'no line per job on stderr')
      .option('--lock-duration <ms>', 'how long a job\'s lock lives unless renewed: how long a dead worker\'s job waits (default 30000)')
      .option('--stalled-interval <ms>', 'how often to look for jobs whose worker died (default 30000)')
      .option('--max-stalled <n>', 'how many times a job may lose its worker before it fails (default 2)'),
  )
    .description('take the jobs of sweeps from a job queue (sweep --queue) and run them here (docs/fleet.md)')
    .action(async (opts) => {
      const { run } = await import('./commands/worker.js');
      result.code = await run(opts, io);
    });

  verb('list', (c) =>
    c
      .option('--json', 'events as JSON')
      .option('--configs', 'kernel config presets')
      .option('--machines', 'machine presets, and what was detected of this one (host); with NAMEs, the topology each builds (with --cpus, --sockets, --cores-per-socket, --threads-per-core as stat takes them)')
      .option('--workloads', 'shipped workloads and their parameters')
      // Not in the help (their long names would re-align every line of it); --machines names them.
      .addOption(new Option('--cpus <n>').hideHelp())
      .addOption(new Option('--sockets <n>').hideHelp())
      .addOption(new Option('--cores-per-socket <n>').hideHelp())
      .addOption(new Option('--threads-per-core <n>').hideHelp()),
  )
    .description('list events, kernel configs, machines or shipped workloads')
    .argument('[filter...]', "perf list's filters: sw, tracepoint, vmstat, 'subsys:event' globs, or a word; with --machines, machine names")
    .action(async (filters: string[], opts) => {
      const { run } = await import('./commands/list.js');
      result.code = await run({ ...opts, filters }, io);
    });

  return program;
}

/** Print an error the user can act on to io's stderr, and return the exit code. */
export function reportError(e: unknown, io: CliIo): number {
  if (e instanceof CommanderError) return e.exitCode;
  if (e instanceof InterruptedError) {
    if (e.discarded !== undefined) io.stderr.write(`spfperf: ${e.discarded}\n`);
    return e.exitCode;
  }
  if (e instanceof WorkloadSyntaxError) {
    io.stderr.write(e.render() + '\n');
    return 2;
  }
  if (e instanceof UsageError) {
    io.stderr.write(e.bare ? `${e.message}\n` : `spfperf: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof ConfigError) {
    io.stderr.write(`spfperf: ${e.message}\n`);
    return 2;
  }
  if (e instanceof ViolationError) {
    // An invariant of the model broke (--check, or an `expect` of the workload): exit 4.
    io.stderr.write(`spfperf: ${e.message}\n`);
    return 4;
  }
  if (e instanceof SimulationError) {
    io.stderr.write(`spfperf: ${e.message}\n`);
    return 3;
  }
  const errno = e as NodeJS.ErrnoException;
  if (errno?.syscall === 'write' && typeof errno.code === 'string') {
    // An output that failed under us (a full disk, EIO): the user's world, not a bug. Exit 1.
    io.stderr.write(`spfperf: cannot write the output: ${errnoText(errno)}\n`);
    return 1;
  }
  const err = e as Error;
  io.stderr.write(`spfperf: internal error: ${err?.message ?? String(e)}\n`);
  if (io.env.SPFPERF_DEBUG) io.stderr.write(`${err?.stack ?? ''}\n`);
  return 70;
}

/** Run one command line (without the program name) against `io`; resolves to its exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const result = { code: 0 };
  try {
    await buildProgram(io, result).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (e) {
    return reportError(e, io);
  }
}
