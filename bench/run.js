#!/usr/bin/env node
// npm run bench: simulated faults per wall-clock second for page_fault1 on 1 and 16 simulated
// CPUs, beside the real kernel's fault rate on this machine measured in the same run (fresh
// ArrayBuffer pages touched from Node, counted with process.resourceUsage().minorPageFault).
// Design target: ratio >= 1 (the simulator takes faults faster than the real kernel does).
import { runWorkload } from '../dist/sim/run.js';
import { prepareRun, runOptionsOf } from '../dist/sim/setup.js';
import { EV } from '../dist/events/catalog.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function simRate(cpus, iterations) {
  const prep = prepareRun('page_fault1', [`threads=${cpus}`, `iterations=${iterations}`], { cpus: String(cpus) });
  const t0 = process.hrtime.bigint();
  const r = runWorkload(runOptionsOf(prep));
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const faults = r.counts.total(EV.PAGE_FAULTS);
  return { faults, sec, rate: faults / sec };
}

function realRate() {
  const SIZE = 256 << 20;
  const before = process.resourceUsage().minorPageFault;
  const t0 = process.hrtime.bigint();
  const buf = new Uint8Array(new ArrayBuffer(SIZE));
  for (let i = 0; i < SIZE; i += 4096) buf[i] = 1;
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const faults = process.resourceUsage().minorPageFault - before;
  return { faults, sec, rate: faults / sec };
}

const rows = [];
for (const [cpus, iters] of [[1, 4], [16, 1]]) {
  const sims = [];
  const reals = [];
  for (let i = 0; i < REPEATS; i++) {
    sims.push(simRate(cpus, iters));
    reals.push(realRate());
  }
  const sim = median(sims.map((s) => s.rate));
  const real = median(reals.map((s) => s.rate));
  rows.push({ cpus, faults: sims[0].faults, sim, real, ratio: sim / real });
}

const fmt = (n) => (n / 1e6).toFixed(3).padStart(8);
console.log(`page_fault1, median of ${REPEATS} runs (M faults per wall-clock second)`);
console.log('  sim CPUs   faults/run   simulated   real kernel   ratio');
for (const r of rows) {
  console.log(`  ${String(r.cpus).padStart(8)}   ${String(r.faults).padStart(10)}   ${fmt(r.sim)}    ${fmt(r.real)}     ${r.ratio.toFixed(2)}`);
}
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(`  peak RSS of this process: ${rss.toFixed(0)} MiB`);
