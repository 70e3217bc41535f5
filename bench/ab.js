#!/usr/bin/env node
// Two builds of spfperf timed against each other in one process (docs/performance.md, "The event
// queue as a tournament tree"): a run of build A, then the same run of build B, N times, each
// run's CPU time (process.cpuUsage) printed with B's over A's. On the shared 2-core machine
// whole-process timings of two builds taken in turn move by 10-30 % with the host's spells; in
// one process both builds meet the same spells pair by pair, so a 5 % change shows as a
// consistent ratio. Each build's modules are its own (their own JIT code); one warm-up run of
// each comes first. The runs' simulated elapsed times are compared too: a change meant to leave
// the schedule alone must give the same figure.
//
//   node bench/ab.js DIR_A DIR_B [--runs N] [--machine M] [--config C]... [--cpus N] WORKLOAD [name=value ...]
//   node bench/ab.js /tmp/before . --machine skl-4s192 --config dufour-v9 --config kernel=4.16 page_fault1 threads=192 size=16M iterations=3
//
// A DIR is a project directory with its build (dist/); copy one aside before a change
// (cp -r dist /tmp/before/dist) to compare with it.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './median.js';
import { parseRunArgs, usageError } from './run-args.js';

const USAGE = 'node bench/ab.js DIR_A DIR_B [--runs N] [--machine M] [--config C]... [--cpus N] WORKLOAD [name=value ...]';
const usage = (msg) => usageError('ab', USAGE, msg);
const { opts, count: runs, rest } = parseRunArgs(process.argv.slice(2), { name: 'ab', usage: USAGE, count: { flag: '--runs', min: 1, value: 6 } });
if (rest.length < 3) usage('two build directories and a workload are needed');
const [dirA, dirB, workload, ...params] = rest;

/** A function that runs the workload with the build in `dir`: [CPU seconds, simulated ns]. */
async function builder(dir) {
  const url = (f) => pathToFileURL(resolve(dir, 'dist', f)).href;
  let setup;
  let sim;
  try {
    setup = await import(url('sim/setup.js'));
    sim = await import(url('sim/run.js'));
  } catch (e) {
    usage(`${dir}: no build there (${e.message.split('\n')[0]})`);
  }
  return () => {
    const prep = setup.prepareRun(workload, params, opts);
    const t0 = process.cpuUsage();
    const r = sim.runWorkload(setup.runOptionsOf(prep));
    const u = process.cpuUsage(t0);
    return [(u.user + u.system) / 1e6, r.elapsedNs];
  };
}

const A = await builder(dirA);
const B = await builder(dirB);
A();
B();
const ratios = [];
let sameSchedule = true;
console.log('A (s)   B (s)   B/A');
for (let i = 0; i < runs; i++) {
  const [a, ea] = A();
  const [b, eb] = B();
  if (ea !== eb) sameSchedule = false;
  ratios.push(b / a);
  console.log(`${a.toFixed(2).padStart(6)}  ${b.toFixed(2).padStart(6)}  ${(b / a).toFixed(3)}`);
}
console.log(
  `B/A median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}); ` +
    `B faster in ${ratios.filter((r) => r < 1).length} of ${runs}; simulated time ${sameSchedule ? 'the same in every run' : 'DIFFERS between the builds'}`,
);
