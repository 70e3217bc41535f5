#!/usr/bin/env node
// The schedules-to-first-violation figures of docs/check.md: for each config and strategy given,
// run schedules 0..N-1 of seeds 1..S of a workload (as `spfperf check` does, without stopping at
// the first violation) and print, per invariant broken, the 1-based number of the first schedule
// that broke it on each seed, their median, and the share of schedules that broke it.
//
//   npm run build && node scripts/check-figures.js split-merge kamezawa pct:3 10 1000
//   args: [--mutant NAME] WORKLOAD CONFIG STRATEGY[:DEPTH] SEEDS SCHEDULES [name=value...]
//   --mutant: one of the model's test-only mutants (KernelOptions.mutant; docs/check.md "Mutants")
import { prepareRun } from '../dist/sim/setup.js';
import { expectedChoices, runSchedule } from '../dist/check/explore.js';

const argv = process.argv.slice(2);
const mutant = argv[0] === '--mutant' ? argv.splice(0, 2)[1] : undefined;
const o = mutant !== undefined ? { mutant } : {};
const [workload, config, strat, seedsArg, nArg, ...params] = argv;
if (workload === undefined || nArg === undefined) {
  console.error('usage: node scripts/check-figures.js WORKLOAD CONFIG STRATEGY[:DEPTH] SEEDS SCHEDULES [name=value...]');
  process.exit(1);
}
const [strategy, depthText] = strat.split(':');
const depth = strategy === 'pct' ? Number(depthText ?? 3) : 0;
const prep = prepareRun(workload, params, { config: [config], check: true });
const first = new Map();
const broke = new Map();
const seeds = Number(seedsArg);
const n = Number(nArg);
for (let seed = 1; seed <= seeds; seed++) {
  const k = strategy === 'pct' ? expectedChoices(prep, seed, depth, mutant) : 0;
  for (let index = 0; index < n; index++) {
    const v = runSchedule(prep, { strategy, depth, seed, index, keep: null }, k, o).violation;
    if (v === null) continue;
    if (!first.has(v.invariant)) first.set(v.invariant, new Array(seeds).fill(null));
    if (!broke.has(v.invariant)) broke.set(v.invariant, new Array(seeds).fill(0));
    const f = first.get(v.invariant);
    if (f[seed - 1] === null) f[seed - 1] = index + 1;
    broke.get(v.invariant)[seed - 1]++;
  }
}
const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return '-';
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x) => `${((100 * x) / n).toFixed(1)}`;
const label = strategy === 'pct' ? `pct, d=${depth}` : strategy;
const name = mutant !== undefined ? `${config}\` + \`${mutant}` : config;
if (first.size === 0) console.log(`| \`${name}\` | ${label} | any | none in ${n} (seeds 1..${seeds}) | - | 0 |`);
for (const [inv, f] of first) {
  const b = broke.get(inv);
  console.log(`| \`${name}\` | ${label} | ${inv} | ${f.map((x) => x ?? 'none').join(', ')} | ${median(f)} | ${pct(Math.min(...b))}-${pct(Math.max(...b))} % |`);
}
