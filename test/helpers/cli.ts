import { Readable, Writable } from 'node:stream';
import { main } from '../../src/cli.js';
import type { CliIo } from '../../src/io.js';
import { ROOT } from './golden.js';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that keeps what is written to it. */
export class Capture extends Writable {
  private chunks: Buffer[] = [];
  constructor(opts: { highWaterMark?: number; write?: (chunk: Buffer, done: () => void) => void } = {}) {
    super({
      highWaterMark: opts.highWaterMark,
      write: (chunk: Buffer, _enc, cb) => {
        this.chunks.push(chunk);
        if (opts.write) opts.write(chunk, () => cb());
        else cb();
      },
    });
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface CliCallOptions {
  /** What the command reads on stdin (default: an empty input). */
  readonly stdin?: string | Buffer | Readable;
  /** Working directory for the call (default the repository root); restored afterwards. */
  readonly cwd?: string;
  /** Environment (default: this process's, with SPFPERF_DEBUG unset). */
  readonly env?: Record<string, string | undefined>;
  /** Where stdout goes (default a Capture; give one to watch it while the command runs). */
  readonly stdout?: Capture;
  /** Ctrl-C: called with the command's handler when it subscribes. */
  readonly onInterrupt?: CliIo['onInterrupt'];
}

/**
 * Run the CLI in-process through its entry (src/cli.ts main) with captured streams, as a user
 * would run `spfperf ARGS` with stdout and stderr on pipes. For what only a real process shows
 * (the launcher, pipes between processes, EPIPE) see test/cli/smoke.test.ts.
 *
 * `cwd` changes this process's working directory for the call (the CLI resolves relative paths
 * against it, as a process would); vitest runs each test file in its own process (pool: forks),
 * and the tests of a file one at a time, so nothing else sees the change.
 */
export async function spfperf(args: readonly string[], opts: CliCallOptions = {}): Promise<CliResult> {
  const stdout = opts.stdout ?? new Capture();
  const stderr = new Capture();
  const stdin = opts.stdin instanceof Readable ? opts.stdin : Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]);
  const io: CliIo = {
    stdout,
    stderr,
    stdin,
    isTTY: { stdout: false, stderr: false, stdin: false },
    env: opts.env ?? { ...process.env, SPFPERF_DEBUG: undefined },
    onInterrupt: opts.onInterrupt,
  };
  const before = process.cwd();
  process.chdir(opts.cwd ?? ROOT);
  try {
    const status = await main(args, io);
    return { status, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.chdir(before);
  }
}

