#!/usr/bin/env node
// Runs the spfperf command line given as arguments in this process, as bin/spfperf.js does, and at
// exit writes this process's own resource usage as one JSON line to file descriptor 3:
//   {"maxRssKiB": peak resident set size, "userUs": user CPU, "sysUs": system CPU}
// bench/run.js starts each measured run as such a child, so that a peak RSS is that run's alone
// (process.resourceUsage() of the child itself: no /usr/bin/time needed).
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  writeSync(3, `${JSON.stringify({ maxRssKiB: u.maxRSS, userUs: u.userCPUTime, sysUs: u.systemCPUTime })}\n`);
});

// main.js reads process.argv.slice(2): this file stands where bin/spfperf.js would.
await import('../dist/main.js');
