/**
 * The command table (loaded lazily) and the one place where errors become exit codes:
 *   UsageError -> its code (1), WorkloadSyntaxError / ConfigError -> 2, SimulationError -> 3,
 *   anything else -> 70 with a one-line message (the stack only with SPFPERF_DEBUG=1).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ConfigError, SimulationError, UsageError, WorkloadSyntaxError } from './errors.js';

const require = createRequire(import.meta.url);
const VERSION: string = (require('../package.json') as { version: string }).version;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function commonRunOptions(c: Command): Command {
  return c
    .option('--arch <arch>', 'architecture profile: x86')
    .option('--machine <name>', 'machine preset (spfperf list --machines)')
    .option('--cpus <n>', 'number of simulated CPUs (default: the machine\'s)')
    .option('--config <name|file|KEY=VALUE>', 'kernel config; may repeat, later wins (spfperf list --configs)', collect, [])
    .option('--seed <n>', 'seed of the simulation\'s PRNG', '1');
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spfperf')
    .description('perf-style simulator of the Linux page-fault path under speculative page-fault designs')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  commonRunOptions(
    program
      .command('stat')
      .description('run a workload on the model and print perf-stat counters (to stderr, like perf)')
      .argument('<workload>', 'a shipped workload name (spfperf list --workloads) or a .spf file')
      .argument('[params...]', 'workload parameters as name=value')
      .option('-e, --event <events>', 'events to count: comma-separated, globs allowed, may repeat', collect, [])
      .option('-o, --output <file>', 'write the counters to a file instead of stderr')
      .option('--vmstat', 'print the run\'s /proc/vmstat lines after the counters'),
  ).action(async (workload: string, params: string[], opts) => {
    const { run } = await import('./commands/stat.js');
    process.exitCode = await run(workload, params, opts);
  });

  program
    .command('list')
    .description('list events, kernel configs, machines or shipped workloads')
    .option('--json', 'events as JSON')
    .option('--configs', 'kernel config presets')
    .option('--machines', 'machine presets')
    .option('--workloads', 'shipped workloads and their parameters')
    .action(async (opts) => {
      const { run } = await import('./commands/list.js');
      process.exitCode = await run(opts);
    });

  return program;
}

/** Print an error the user can act on, and return the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode;
  if (e instanceof WorkloadSyntaxError) {
    process.stderr.write(e.render() + '\n');
    return 2;
  }
  if (e instanceof UsageError) {
    process.stderr.write(e.bare ? `${e.message}\n` : `spfperf: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`spfperf: ${e.message}\n`);
    return 2;
  }
  if (e instanceof SimulationError) {
    process.stderr.write(`spfperf: ${e.message}\n`);
    return 3;
  }
  const err = e as Error;
  process.stderr.write(`spfperf: internal error: ${err?.message ?? String(e)}\n`);
  if (process.env.SPFPERF_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  return 70;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}
