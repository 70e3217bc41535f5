#!/usr/bin/env node
// Benchmark of `spfperf report` on a large trace: wall time and peak RSS, beside
//   jq -c 'select(.type=="sample") | .event' FILE | sort | uniq -c
// on the same file (the same question: samples per event).
//
//   npm run build && node bench/report.js
//
// Environment:
//   BENCH_TRACE_BYTES  size of the trace (default 1 GiB: 1073741824)
//   BENCH_TRACE        where to put it (default $TMPDIR/spfperf-bench-<size>.ndjson; reused when
//                      it is already there, so repeated runs skip the generation)
//   BENCH_REPEATS      runs of each command (default 3); the median is printed
//   BENCH_SORT         report's --sort keys (default event,comm)
//
// The trace is a real recording (ebizzy on dufour-v9: faults and pagefault:* samples) whose sample
// lines are repeated until the size is reached, with its header and a summary that counts them.
// Each command runs under /usr/bin/time -v (peak RSS = "Maximum resident set size"); without it
// only wall time is shown. jq comes from Debian's jq package: without it, that is said.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'spfperf.js');
const SIZE = Number(process.env.BENCH_TRACE_BYTES ?? 2 ** 30);
const TRACE = process.env.BENCH_TRACE ?? join(tmpdir(), `spfperf-bench-${SIZE}.ndjson`);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SORT = process.env.BENCH_SORT ?? 'event,comm';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (kb) => (kb / 1024).toFixed(0);

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Write the trace: header, the seed's sample lines again and again, a summary that counts them. */
function generate() {
  const seed = spawnSync(process.execPath, [BIN, 'record', '-o', '-', '-e', 'faults,pagefault:*', '--cpus', '4', '--config', 'dufour-v9', 'ebizzy', 'threads=4', 'seconds=0.02s'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (seed.status !== 0) throw new Error(`record failed: ${seed.stderr}`);
  const lines = seed.stdout.trimEnd().split('\n');
  const header = lines[0];
  const summary = JSON.parse(lines[lines.length - 1]);
  const samples = lines.slice(1, -1);
  const block = samples.join('\n') + '\n';
  const perBlock = {};
  for (const l of samples) {
    const ev = JSON.parse(l).event;
    perBlock[ev] = (perBlock[ev] ?? 0) + 1;
  }
  const blocks = Math.max(1, Math.floor((SIZE - header.length - 2000) / Buffer.byteLength(block)));
  const tmp = `${TRACE}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, header + '\n');
    const buf = Buffer.from(block);
    for (let i = 0; i < blocks; i++) writeSync(fd, buf);
    for (const k of Object.keys(summary.samples)) summary.samples[k] = (perBlock[k] ?? 0) * blocks;
    summary.counters['page-faults'] = summary.samples.faults;
    writeSync(fd, JSON.stringify(summary) + '\n');
  } finally {
    closeSync(fd);
  }
  spawnSync('mv', [tmp, TRACE]);
  return { events: Object.fromEntries(Object.entries(perBlock).map(([k, v]) => [k, v * blocks])) };
}

/** Run `sh -c cmd` (under /usr/bin/time -v when there is one): wall seconds, peak RSS (KiB), stdout. */
function timed(cmd) {
  const useTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(useTime ? '/usr/bin/time' : 'sh', useTime ? ['-v', 'sh', '-c', cmd] : ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = useTime ? Number((r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/) ?? [])[1]) : NaN;
  if (r.status !== 0) throw new Error(`'${cmd}' failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { wall, rss, out: r.stdout };
}

let expected = null;
if (!existsSync(TRACE) || Math.abs(statSync(TRACE).size - SIZE) > SIZE * 0.01 + 5e6) {
  if (existsSync(TRACE)) unlinkSync(TRACE);
  process.stdout.write(`generating ${TRACE} (${(SIZE / 2 ** 20).toFixed(0)} MiB)... `);
  const t0 = Date.now();
  expected = generate().events;
  console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
const bytes = statSync(TRACE).size;
// Warm the page cache so that both commands read from memory.
spawnSync('sh', ['-c', `cat '${TRACE}' > /dev/null`]);

const reportCmd = `node '${BIN}' report --stdio --sort ${SORT} -i '${TRACE}'`;
const jqCmd = `jq -c 'select(.type=="sample") | .event' '${TRACE}' | sort | uniq -c`;
const jq = have('jq');
const rows = [];
const runs = { report: [], jq: [] };
for (let i = 0; i < REPEATS; i++) {
  runs.report.push(timed(reportCmd));
  if (jq) runs.jq.push(timed(jqCmd));
}

// Both must say the same thing: samples per event.
const fromReport = Object.fromEntries([...runs.report[0].out.matchAll(/# Samples: \S+ +of event '([^']+)'\n# Event count \(approx\.\): (\d+)/g)].map((m) => [m[1], Number(m[2])]));
if (jq) {
  const fromJq = Object.fromEntries([...runs.jq[0].out.matchAll(/^\s*(\d+) "([^"]+)"$/gm)].map((m) => [m[2], Number(m[1])]));
  const same = JSON.stringify(Object.entries(fromJq).sort()) === JSON.stringify(Object.entries(fromReport).sort());
  if (!same) throw new Error(`report and jq disagree:\n${JSON.stringify(fromReport)}\n${JSON.stringify(fromJq)}`);
}
if (expected !== null && JSON.stringify(Object.entries(expected).sort()) !== JSON.stringify(Object.entries(fromReport).sort())) {
  throw new Error(`report's counts differ from the generated trace's: ${JSON.stringify(fromReport)} vs ${JSON.stringify(expected)}`);
}

for (const [name, rs] of Object.entries(runs)) {
  if (rs.length === 0) continue;
  const wall = median(rs.map((r) => r.wall));
  rows.push({ name, wall, rss: median(rs.map((r) => r.rss)), mbps: bytes / 2 ** 20 / wall, all: rs.map((r) => r.wall.toFixed(2)).join(' ') });
}
console.log(`trace: ${TRACE}, ${(bytes / 2 ** 20).toFixed(0)} MiB, ${Object.values(fromReport).reduce((a, b) => a + b, 0)} samples; median of ${REPEATS} runs`);
console.log('  command                                  wall s    MiB/s   peak RSS MiB   runs (wall s)');
const label = { report: `spfperf report --stdio --sort ${SORT}`, jq: 'jq ... | sort | uniq -c' };
for (const r of rows) {
  console.log(`  ${label[r.name].padEnd(38)} ${r.wall.toFixed(2).padStart(8)} ${r.mbps.toFixed(0).padStart(8)} ${(Number.isNaN(r.rss) ? 'n/a' : mib(r.rss)).padStart(14)}   ${r.all}`);
}
if (!jq) console.log('  jq is not installed (Debian: apt-get install jq): no comparison');
else console.log(`  report is ${(rows[1].wall / rows[0].wall).toFixed(1)}x faster than the jq pipeline`);
if (!existsSync('/usr/bin/time')) console.log('  /usr/bin/time is not installed (Debian: apt-get install time): no peak RSS');
if (process.env.BENCH_KEEP !== '1' && process.env.BENCH_TRACE === undefined) console.log(`  (the trace stays at ${TRACE} for the next run; delete it when done)`);

