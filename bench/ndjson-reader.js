#!/usr/bin/env node
// Reading a large `spfperf record` trace: the project's own reader (src/trace/ndjson-reader.ts:
// chunks split on '\n' by hand, JSON.parse per line, each record checked, line numbers kept for
// skip messages) against the ndjson package's parser (split2 + JSON.parse in a transform stream),
// both streamed from the same file with the same 1 MiB reads, each counting the samples it gets.
// Prints MB/s per run and the median of each, alternating the two so drift hits both alike.
//
//   npm run build
//   node bin/spfperf.js record -o /tmp/big.ndjson --cpus 4 -e faults,exceptions:page_fault_user ebizzy threads=4 seconds=0.2s
//   npm install --no-save ndjson@2.0.0
//   node bench/ndjson-reader.js /tmp/big.ndjson [runs]
import { createReadStream, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readTrace } from '../dist/trace/ndjson-reader.js';

// ndjson is not a dependency of spfperf (this comparison is why): install it to rerun this,
// without saving it: npm install --no-save ndjson@2.0.0
const require = createRequire(import.meta.url);
let ndjson;
try {
  ndjson = require('ndjson');
} catch {
  console.error("bench/ndjson-reader.js: the 'ndjson' package is not installed; npm install --no-save ndjson@2.0.0 first");
  process.exit(2);
}

const file = process.argv[2];
const RUNS = Number(process.argv[3] ?? 5);
if (!file) {
  console.error('usage: node bench/ndjson-reader.js TRACE.ndjson [runs]');
  process.exit(2);
}
const bytes = statSync(file).size;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const open = () => createReadStream(file, { highWaterMark: 1 << 20 });

async function ours() {
  let n = 0;
  await readTrace(open(), { sample: () => n++ }, { name: file });
  return n;
}

function theirs() {
  return new Promise((resolve, reject) => {
    let n = 0;
    open()
      .pipe(ndjson.parse())
      .on('data', (o) => {
        if (o.type === 'sample') n++;
      })
      .on('error', reject)
      .on('end', () => resolve(n));
  });
}

async function time(fn) {
  const t0 = process.hrtime.bigint();
  const n = await fn();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  return { n, mbps: bytes / 1e6 / sec };
}

const rates = { ours: [], ndjson: [] };
await ours(); // warm-up: JIT and the page cache
await theirs();
for (let i = 0; i < RUNS; i++) {
  const a = await time(ours);
  const b = await time(theirs);
  if (a.n !== b.n) throw new Error(`the two readers disagree: ${a.n} vs ${b.n} samples`);
  rates.ours.push(a.mbps);
  rates.ndjson.push(b.mbps);
  console.log(`run ${i + 1}: hand-written ${a.mbps.toFixed(1)} MB/s, ndjson ${b.mbps.toFixed(1)} MB/s (${a.n} samples)`);
}
const mo = median(rates.ours);
const mn = median(rates.ndjson);
console.log(`\n${(bytes / 1e6).toFixed(1)} MB, ${RUNS} runs, median: hand-written ${mo.toFixed(1)} MB/s, ndjson ${mn.toFixed(1)} MB/s (hand-written / ndjson = ${(mo / mn).toFixed(2)})`);
