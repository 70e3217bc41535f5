#!/usr/bin/env node
// What one simulated page fault costs the simulator, in counts that do not depend on how busy the
// machine is (docs/performance.md, "Counting instead of timing"): on a shared 2-core machine a
// run's CPU time moves by 10-30 % from one run to the next, more than most hot-path changes gain,
// while these counts move only with the code. Runs the run twice in this process (after a
// warm-up run):
//
//   1. plain, with V8's sampling heap profiler on (objects a scavenge frees included): bytes
//      allocated per fault, by allocating function; scavenges and mark-compacts (perf_hooks 'gc');
//   2. counted: the event heap's operations (EventHeap.pushPop: a task that synced goes back in as
//      the next item comes out; push/pop: the other items) and generator resumes
//      (%GeneratorPrototype%.next), per fault. The counting wrappers make this run slower; its
//      counts are exact.
//
//   node bench/per-fault.js [--machine M] [--config C]... [--cpus N] [--top N] WORKLOAD [name=value ...]
//   node bench/per-fault.js --machine skl-4s192 --config dufour-v9 --config kernel=4.16 page_fault1 threads=192 size=4M iterations=3
//
// Needs the build (npm run build).
import { Session } from 'node:inspector';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { EventHeap } from '../dist/engine/heap.js';
import { runWorkload } from '../dist/sim/run.js';
import { prepareRun, runOptionsOf } from '../dist/sim/setup.js';
import { EV } from '../dist/events/catalog.js';
import { ConfigError, UsageError, WorkloadSyntaxError } from '../dist/errors.js';
import { parseRunArgs, usageError } from './run-args.js';

const USAGE = 'node bench/per-fault.js [--machine M] [--config C]... [--cpus N] [--top N] WORKLOAD [name=value ...]';
const usage = (msg) => usageError('per-fault', USAGE, msg);
const { opts, count: top, rest } = parseRunArgs(process.argv.slice(2), { name: 'per-fault', usage: USAGE, count: { flag: '--top', min: 0, value: 12 } });
if (rest.length === 0) usage('no workload given');
const [workload, ...params] = rest;

function run() {
  const prep = prepareRun(workload, params, opts);
  const r = runWorkload(runOptionsOf(prep));
  return r.counts.total(EV.PAGE_FAULTS);
}

/** Run 1: allocation (sampling heap profiler) and garbage collections. */
async function allocation() {
  const s = new Session();
  s.connect();
  const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  const gcs = { minor: 0, major: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      else if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  await post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  const faults = run();
  const { profile } = await post('HeapProfiler.stopSampling');
  await new Promise((res) => setTimeout(res, 100)); // the observer's last entries (delivered later)
  obs.disconnect();
  s.disconnect();
  const by = new Map();
  let total = 0;
  const walk = (n) => {
    const f = n.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : '(native)'}`;
    by.set(name, (by.get(name) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  return { faults, total, by, gcs };
}

/** Run 2: the event heap's operations and the generator resumes, counted. */
function engineCounts() {
  const c = { pushPop: 0, pushPopSelf: 0, heapSizeSum: 0, push: 0, pop: 0, resumes: 0 };
  const H = EventHeap.prototype;
  const { pushPop, push, pop } = H;
  const genProto = Object.getPrototypeOf(function* () {}).prototype;
  const next = genProto.next;
  H.pushPop = function (it) {
    c.pushPop++;
    c.heapSizeSum += this.size;
    const out = pushPop.call(this, it);
    if (out === it) c.pushPopSelf++;
    return out;
  };
  H.push = function (it) {
    c.push++;
    return push.call(this, it);
  };
  H.pop = function () {
    c.pop++;
    return pop.call(this);
  };
  genProto.next = function (v) {
    c.resumes++;
    return next.call(this, v);
  };
  try {
    return { faults: run(), ...c };
  } finally {
    Object.assign(H, { pushPop, push, pop });
    genProto.next = next;
  }
}

const per = (n, faults) => (n / faults).toFixed(2);
try {
  run(); // warm-up: the figures below are of warm code (and a bad workload or option fails here)
} catch (err) {
  // spfperf's own errors (a workload not found, a bad parameter, config or machine): one line.
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof WorkloadSyntaxError) usage(err.message.split('\n')[0]);
  throw err;
}
const a = await allocation();
const e = engineCounts();
console.log(`per-fault: ${workload} ${params.join(' ')}${opts.machine ? ` --machine ${opts.machine}` : ''}${opts.config.map((c) => ` --config ${c}`).join('')}${opts.cpus ? ` --cpus ${opts.cpus}` : ''}`);
console.log(`faults                         ${a.faults}`);
console.log(`syncs through the event heap   ${per(e.pushPop, e.faults)} a fault (pushPop; ${e.pushPopSelf} of ${e.pushPop} found the task itself earliest), heap of ${(e.heapSizeSum / Math.max(1, e.pushPop)).toFixed(0)} items on average`);
console.log(`other heap operations          ${per(e.push, e.faults)} pushes, ${per(e.pop, e.faults)} pops a fault`);
console.log(`generator resumes              ${per(e.resumes, e.faults)} a fault`);
console.log(`allocated                      ${(a.total / a.faults).toFixed(0)} bytes a fault (sampled), ${(a.total / 1e6).toFixed(0)} MB in all`);
console.log(`garbage collections            ${a.gcs.minor} scavenges, ${a.gcs.major} mark-compacts (${per(a.gcs.minor * 1000, a.faults)} scavenges per 1000 faults)`);
if (top > 0) {
  console.log(`allocated by function (top ${top}):`);
  for (const [name, bytes] of [...a.by].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    console.log(`  ${(bytes / a.faults).toFixed(0).padStart(6)} B/fault ${((100 * bytes) / a.total).toFixed(1).padStart(5)} %  ${name}`);
  }
}
