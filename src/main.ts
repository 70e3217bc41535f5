/**
 * The real process: its streams, terminal flags, environment and SIGINT become the CLI's io, and
 * the code main() returns becomes the exit status. Nothing else in src touches `process` for that.
 */
import { writeSync } from 'node:fs';
import { main } from './cli.js';
import { errnoText } from './errors.js';
import type { CliIo } from './io.js';

// `spfperf list | head`: a closed pipe ends the output quietly, as perf does. Any other write
// error (a full disk: `> /dev/full`, EIO) is one line on stderr and exit 1, never a stack trace;
// when stderr itself fails there is nowhere to say it, and only the exit status tells.
for (const [name, s] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    if (name === 'stdout') {
      try {
        writeSync(2, `spfperf: cannot write to stdout: ${errnoText(e)}\n`);
      } catch {
        /* stderr is gone too */
      }
    }
    process.exit(1);
  });
}

const io: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  // Only when a command reads it: creating it for nothing may hold a terminal open.
  get stdin() {
    return process.stdin;
  },
  isTTY: {
    stdout: process.stdout.isTTY === true,
    stderr: process.stderr.isTTY === true,
    // Asked only by report: on a file or /dev/null, creating process.stdin loads fs streams,
    // fs/promises and readline, a few ms of every start-up that never reads stdin.
    get stdin() {
      return process.stdin.isTTY === true;
    },
  },
  rows: process.stdout.rows,
  columns: process.stdout.columns,
  env: process.env,
  onInterrupt: (handler, signals = ['SIGINT']) => {
    const subs = signals.map((sig) => [sig, () => handler(sig)] as const);
    for (const [sig, h] of subs) process.on(sig, h);
    return () => {
      for (const [sig, h] of subs) process.off(sig, h);
    };
  },
};

// No top-level await: the start-up bundle that bin/spfperf.js runs (scripts/bundle-cli.mjs) is a
// CommonJS file, which cannot hold one. main() never rejects.
void main(process.argv.slice(2), io).then((code) => {
  // 130 (SIGINT) or 143 (SIGTERM): a run stopped by a signal; it may still be computing, so end here.
  if (code === 130 || code === 143) process.exit(code);
  process.exitCode = code;
});
