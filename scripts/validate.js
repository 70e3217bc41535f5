#!/usr/bin/env node
// npm run validate: run every case in fixtures/validation/*.json on the model and compare the
// simulated figure with the published one. Prints one row per check and exits non-zero if any
// figure lies outside its band. Cases are data: add a JSON file to add a case.
//
// A case: { id, title, source, machine, cpus, workload, params: [name=value...], seeds (runs per
// config, seeds 1..N, averaged), runs: { label: [--config items...] }, checks: [{ name, num, den?,
// published, band: [lo, hi] }] } where num/den pick a figure of one labelled run:
// { run, event } (perf event or tracepoint count), { run, vmstat }, { run, metric } (the
// workload's headline metric), { run, wcounter } (a workload counter), { run, time: elapsed|user|sys }.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWorkload } from '../dist/sim/run.js';
import { prepareRun, runOptionsOf } from '../dist/sim/setup.js';
import { findEvent } from '../dist/events/catalog.js';
import { formatTable } from '../dist/format/table.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'fixtures', 'validation');
// Arguments: case ids to run (default all), and `--seeds N` to run every case with seeds 1..N
// (instead of the case's own count): the mean is judged, and a column shows the per-seed spread.
const args = process.argv.slice(2);
let seedsArg;
const only = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seeds') {
    seedsArg = Number(args[++i]);
    if (!Number.isInteger(seedsArg) || seedsArg < 1) {
      console.error(`validate: --seeds takes a whole number >= 1, not '${args[i]}'`);
      process.exit(2);
    }
  } else only.push(args[i]);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

function figure(r, ref) {
  if (ref.event !== undefined || ref.vmstat !== undefined) {
    const name = ref.event ?? ref.vmstat;
    const e = findEvent(name);
    if (e === undefined) throw new Error(`unknown event '${name}'`);
    return r.counts.total(e.id);
  }
  if (ref.metric !== undefined) {
    const m = r.metrics.find((x) => x.name === ref.metric);
    if (m === undefined) throw new Error(`no metric '${ref.metric}'`);
    return m.value;
  }
  if (ref.wcounter !== undefined) return r.counters.get(ref.wcounter) ?? 0;
  if (ref.time !== undefined) return { elapsed: r.elapsedNs, user: r.userNs, sys: r.sysNs }[ref.time] / 1e9;
  throw new Error(`bad figure reference ${JSON.stringify(ref)}`);
}

const rows = [];
let failed = 0;
const t0 = Date.now();
for (const f of files) {
  const c = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  if (only.length > 0 && !only.includes(c.id)) continue;
  const seeds = seedsArg ?? c.seeds ?? 1;
  const results = {};
  try {
    for (const [label, spec] of Object.entries(c.runs)) {
      // A run is a list of --config items, or { config, params, workload } overriding the case's.
      const run = Array.isArray(spec) ? { config: spec } : spec;
      results[label] = [];
      for (let s = 1; s <= seeds; s++) {
        const prep = prepareRun(run.workload ?? c.workload, [...c.params, ...(run.params ?? [])], { machine: c.machine, cpus: String(c.cpus), config: run.config ?? [], seed: String(s) });
        results[label].push(runWorkload(runOptionsOf(prep)));
      }
    }
  } catch (e) {
    for (const chk of c.checks) rows.push([c.id, chk.name, chk.published, NaN, `error: ${e.message}`]);
    failed += c.checks.length;
    continue;
  }
  const mean = (label, ref) => {
    const rs = results[label];
    if (rs === undefined) throw new Error(`case ${c.id}: no run '${label}'`);
    return rs.reduce((a, r) => a + figure(r, ref), 0) / rs.length;
  };
  for (const chk of c.checks) {
    const v = mean(chk.num.run, chk.num) / (chk.den ? mean(chk.den.run, chk.den) : 1);
    const ok = v >= chk.band[0] && v <= chk.band[1];
    if (!ok) failed++;
    // The same ratio seed by seed (seed s of the numerator's run over seed s of the denominator's).
    const per = results[chk.num.run].map((r, i) => figure(r, chk.num) / (chk.den ? figure(results[chk.den.run][i], chk.den) : 1));
    rows.push([c.id, chk.name, chk.published, v, ok ? 'pass' : 'FAIL', chk.band, per]);
  }
}

const fmt = (x) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(4)) : '-');
const spread = seedsArg !== undefined && seedsArg > 1;
const head = ['case', 'check', 'published', 'simulated', 'error', 'band', 'result', ...(spread ? [`seeds 1-${seedsArg} min..max`] : [])];
const body = rows.map(([id, name, pub, sim, res, band, per]) => {
  const err = Number.isFinite(sim) && pub !== 0 ? `${(((sim - pub) / pub) * 100).toFixed(1)}%` : '-';
  const b = band ? `${band[0]}-${band[1]}` : '';
  return [id, name, fmt(pub), fmt(sim), err, b, res, ...(spread ? [per ? `${fmt(Math.min(...per))}..${fmt(Math.max(...per))}` : ''] : [])];
});
const table = formatTable({ head, rows: body, align: ['left', 'left', 'right', 'right', 'right', 'left', 'left', 'left'] });
process.stdout.write(table);
const lines = table.trimEnd().split('\n');
console.log(`\n${rows.length - failed} of ${rows.length} checks within their bands (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exitCode = failed > 0 ? 1 : 0;

// docs/model.md shows this table (all cases, each case's own seeds) under "How close is it?": say
// so when it no longer matches what the model gives.
if (only.length === 0 && seedsArg === undefined) {
  const doc = readFileSync(join(root, 'docs', 'model.md'), 'utf8');
  const at = doc.indexOf('## How close is it?');
  const block = at < 0 ? null : /```\n([\s\S]*?)\n```/.exec(doc.slice(at));
  const shown = block === null ? [] : block[1].split('\n').filter((l) => !/checks within their bands/.test(l) && l.trim() !== '');
  if (shown.join('\n') !== lines.join('\n')) {
    console.error('validate: docs/model.md\'s table under "How close is it?" differs from this output; paste the output there');
    process.exitCode = 1;
  }
}
