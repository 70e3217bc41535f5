import { main } from './cli.js';

// `spfperf list | head`: a closed pipe ends the output quietly, as perf does.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
