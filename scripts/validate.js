#!/usr/bin/env node
// npm run validate: run every case in fixtures/validation/*.json on the model and compare the
// simulated figure with the published one. Prints one row per check and exits non-zero if any
// figure lies outside its band. Cases are data: add a JSON file to add a case.
//
// A case: { id, title, source, machine, cpus, workload, params: [name=value...], seeds (runs per
// config, seeds 1..N, averaged), runs: { label: [--config items...] }, checks: [{ name, num, den?,
// published, band: [lo, hi], kind?: fidelity (default: must hold on every seed) | structural (an
// exact count the model must reproduce) }] } where num/den pick a figure of one labelled run:
// { run, event } (perf event or tracepoint count), { run, vmstat }, { run, metric } (the
// workload's headline metric), { run, wcounter } (a workload counter), { run, time: elapsed|user|sys }.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultJobs, settlePool } from '../dist/pool/pool.js';
import { resultOf } from '../dist/pool/run-job.js';
import { findEvent } from '../dist/events/catalog.js';
import { formatTable } from '../dist/format/table.js';

import { ALL_CONSTANTS, CONSTANTS, perturbation } from '../dist/config/constants.js';
import { parseValidateArgs } from './validate-args.js';
import { mergeParamArgs } from '../dist/workload/params.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Arguments (validate-args.js): case ids to run (default all); `--seeds N` runs every case with
// seeds 1..N (instead of the case's own count): the mean is judged, and a column shows the
// per-seed spread; `--sensitivity [NAME,...]` runs them again with each declared constant
// (src/config/constants.ts) x0.5 and x2 and prints how every check moves; `-j N` runs N at once on
// worker threads (src/pool/pool.ts; default one per core): every run of every case (and of every
// pass of --sensitivity and --converge) goes to the pool at once, and the results are read in the
// serial order, so the output is the same whatever N.
let opts;
try {
  // Any declared constant can be named (a machine file's too); with none named, --sensitivity
  // perturbs the table of src/config/constants.ts, whose constants the cases' machines use.
  opts = parseValidateArgs(process.argv.slice(2), ALL_CONSTANTS.map((c) => c.name));
} catch (e) {
  console.error(`validate: ${e.message}`);
  process.exit(2);
}
const { seeds: seedsArg, only, sensitivity, converge } = opts;
const jobs = opts.jobs ?? defaultJobs();
const dir = opts.cases ?? join(root, 'fixtures', 'validation');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const cases = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))).filter((c) => only.length === 0 || only.includes(c.id));

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

/**
 * The runs of every selected case (under `perturb`, a Perturbation, or as shipped), as the pool's
 * run specs: for each case, each labelled run's seeds 1..N, in the order a serial loop runs them.
 */
function casePlan(perturb, paramsOf, which) {
  return which.map((c) => {
    const seeds = seedsArg ?? c.seeds ?? 1;
    const runs = Object.entries(c.runs).map(([label, spec]) => {
      // A run is a list of --config items, or { config, params, workload } overriding the case's.
      const run = Array.isArray(spec) ? { config: spec } : spec;
      const specs = [];
      for (let s = 1; s <= seeds; s++) {
        const options = { machine: c.machine, cpus: String(c.cpus), config: run.config ?? [], seed: String(s), ...(perturb ? { perturb } : {}) };
        specs.push({ workload: run.workload ?? c.workload, params: mergeParamArgs(paramsOf(c), run.params ?? []), options });
      }
      return { label, specs };
    });
    return { c, runs };
  });
}

/**
 * Runs every pass (a { perturb, paramsOf, which, what } each; `what` names it in `done(what)`,
 * called as each pass's last run ends) on the pool, all at once, and returns each pass's rows:
 * one per check, [id, name, published, simulated, 'pass' | 'FAIL' | 'error: ...', band, per-seed, kind].
 */
async function runPasses(passes, done = () => {}) {
  const plans = passes.map((p) => casePlan(p.perturb, p.paramsOf ?? ((c) => c.params), p.which ?? cases));
  const specs = [];
  const passOf = [];
  plans.forEach((plan, k) => {
    for (const { runs } of plan) {
      for (const r of runs) {
        specs.push(...r.specs);
        passOf.push(...r.specs.map(() => k));
      }
    }
  });
  const left = plans.map((_, k) => passOf.filter((x) => x === k).length);
  const outcomes = await settlePool('run', specs, {
    jobs,
    onSettled: (i) => {
      if (--left[passOf[i]] === 0) done(passes[passOf[i]].what);
    },
  });
  let next = 0;
  return plans.map((plan) => {
    const rows = [];
    for (const { c, runs } of plan) {
      // As the serial loop did: the case's first failing run (in its order) makes every check an error.
      const results = {};
      let error;
      for (const { label, specs: ss } of runs) {
        results[label] = [];
        for (let k = 0; k < ss.length; k++) {
          const o = outcomes[next++];
          if (error !== undefined) continue;
          if (o.ok) results[label].push(resultOf(o.value));
          else error = o.error;
        }
      }
      rows.push(...(error !== undefined ? errorRows(c, error) : checkRows(c, results)));
    }
    return rows;
  });
}

function errorRows(c, e) {
  return c.checks.map((chk) => [c.id, chk.name, chk.published, NaN, `error: ${e.message}`, chk.band, undefined, chk.kind ?? 'fidelity']);
}

function checkRows(c, results) {
  const rows = [];
  const mean = (label, ref) => {
    const rs = results[label];
    if (rs === undefined) throw new Error(`case ${c.id}: no run '${label}'`);
    return rs.reduce((a, r) => a + figure(r, ref), 0) / rs.length;
  };
  for (const chk of c.checks) {
    const v = mean(chk.num.run, chk.num) / (chk.den ? mean(chk.den.run, chk.den) : 1);
    const inBand = (x) => x >= chk.band[0] && x <= chk.band[1];
    // The same ratio seed by seed (seed s of the numerator's run over seed s of the denominator's).
    const per = results[chk.num.run].map((r, i) => figure(r, chk.num) / (chk.den ? figure(results[chk.den.run][i], chk.den) : 1));
    // A fidelity check holds on every seed, not on the mean alone; a structural one (an exact
    // count the model must reproduce) is judged on the mean, which every seed then equals.
    const kind = chk.kind ?? 'fidelity';
    const badSeed = kind === 'fidelity' ? per.findIndex((x) => !inBand(x)) : -1;
    const res = !inBand(v) ? 'FAIL' : badSeed >= 0 ? `FAIL (seed ${badSeed + 1})` : 'pass';
    rows.push([c.id, chk.name, chk.published, v, res, chk.band, per, kind]);
  }
  return rows;
}

const t0 = Date.now();
const fmt = (x) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(4)) : '-');
if (sensitivity !== null) {
  await sensitivityRun(sensitivity);
  process.exit(process.exitCode ?? 0);
}
if (converge) {
  await convergeRun();
  process.exit(process.exitCode ?? 0);
}
const [rows] = await runPasses([{ what: 'as shipped' }]);
const failed = rows.filter((r) => r[4] !== 'pass').length;

const spread = seedsArg !== undefined && seedsArg > 1;
const head = ['case', 'check', 'kind', 'published', 'simulated', 'error', 'band', 'result', ...(spread ? [`seeds 1-${seedsArg} min..max`] : [])];
const body = rows.map(([id, name, pub, sim, res, band, per, kind]) => {
  const err = Number.isFinite(sim) && pub !== 0 ? `${(((sim - pub) / pub) * 100).toFixed(1)}%` : '-';
  const b = band ? `${band[0]}-${band[1]}` : '';
  return [id, name, kind, fmt(pub), fmt(sim), err, b, res, ...(spread ? [per ? `${fmt(Math.min(...per))}..${fmt(Math.max(...per))}` : ''] : [])];
});
const table = formatTable({ head, rows: body, align: ['left', 'left', 'left', 'right', 'right', 'right', 'left', 'left', 'left'] });
process.stdout.write(table);
const lines = table.trimEnd().split('\n');
const tally = (kind) => {
  const of = rows.filter((r) => r[7] === kind);
  return `${of.filter((r) => r[4] === 'pass').length} of ${of.length} ${kind} checks`;
};
console.log(`\n${tally('fidelity')} and ${tally('structural')} within their bands (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exitCode = failed > 0 ? 1 : 0;

// docs/model.md shows this table (all cases, each case's own seeds) under "How close is it?": say
// so when it no longer matches what the model gives.
if (only.length === 0 && seedsArg === undefined && opts.cases === undefined) {
  const doc = readFileSync(join(root, 'docs', 'model.md'), 'utf8');
  const at = doc.indexOf('## How close is it?');
  const block = at < 0 ? null : /```\n([\s\S]*?)\n```/.exec(doc.slice(at));
  const shown = block === null ? [] : block[1].split('\n').filter((l) => !/checks within their bands/.test(l) && l.trim() !== '');
  if (shown.join('\n') !== lines.join('\n')) {
    console.error('validate: docs/model.md\'s table under "How close is it?" differs from this output; paste the output there');
    process.exitCode = 1;
  }
}

/**
 * validate --sensitivity: the cases as shipped, then with each named constant (all that can be
 * perturbed when none is named) x0.5 and x2. One table per constant: every check's simulated
 * figure as shipped and under each factor, with its move; a check whose pass/fail differs under
 * either factor is marked as hinging on the constant. Progress (each pass as it ends) goes to stderr.
 */
async function sensitivityRun(names) {
  const chosen = names.length > 0 ? names.map((n) => ALL_CONSTANTS.find((c) => c.name === n)) : CONSTANTS.filter((c) => c.target.on !== 'none');
  for (const c of chosen) {
    if (c.target.on === 'none') {
      console.error(`validate: constant '${c.name}' cannot be perturbed yet: ${c.target.why}`);
      process.exit(2);
    }
  }
  const factors = [0.5, 2];
  const total = 1 + chosen.length * factors.length;
  let step = 0;
  const progress = (what) => console.error(`sensitivity: [${++step}/${total}] ${what} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const passes = [{ what: 'as shipped' }, ...chosen.flatMap((c) => factors.map((f) => ({ what: `${c.name} x${f}`, perturb: perturbation([[c.name, f]]) })))];
  const [base, ...perturbed] = await runPasses(passes, progress);
  const hinges = [];
  const move = (v, b) => (Number.isFinite(v) && Number.isFinite(b) && b !== 0 ? `${v >= b ? '+' : ''}${(((v - b) / b) * 100).toFixed(1)}%` : '-');
  for (const [ci, c] of chosen.entries()) {
    const under = factors.map((_, k) => perturbed[ci * factors.length + k]);
    const body = base.map((b, i) => {
      const flips = factors.filter((_, k) => under[k][i][4] !== b[4]);
      if (flips.length > 0) hinges.push(`${b[0]} ${b[1]} hinges on ${c.name} (${flips.map((f) => `x${f}: ${under[factors.indexOf(f)][i][4]}`).join(', ')})`);
      const cells = under.flatMap((u) => [fmt(u[i][3]), move(u[i][3], b[3]), u[i][4]]);
      return [b[0], b[1], b[5] ? `${b[5][0]}-${b[5][1]}` : '', fmt(b[3]), b[4], ...cells, flips.length > 0 ? `hinges on ${c.name}` : ''];
    });
    process.stdout.write(`\n${c.name} (${c.kind}; ${c.file})\n`);
    process.stdout.write(formatTable({
      head: ['case', 'check', 'band', 'shipped', 'result', 'x0.5', 'move', 'result', 'x2', 'move', 'result', ''],
      rows: body,
      align: ['left', 'left', 'left', 'right', 'left', 'right', 'right', 'left', 'right', 'right', 'left', 'left'],
    }));
  }
  process.stdout.write(`\n${hinges.length === 0 ? 'No check flips on one constant x0.5 or x2.' : hinges.join('\n')}\n`);
  console.error(`sensitivity: ${chosen.length} constant(s), ${total} passes over ${cases.length} case(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** `name=value` with the number in value doubled, its unit kept (size=4M -> 8M, seconds=0.08s -> 0.16s). */
function doubled(param, names) {
  const eq = param.indexOf('=');
  const name = param.slice(0, eq);
  const m = /^(\d+(?:\.\d+)?)(.*)$/.exec(param.slice(eq + 1));
  if (!names.includes(name) || m === null) return param;
  return `${name}=${Number(m[1]) * 2}${m[2]}`;
}

/**
 * validate --converge: a case that runs shorter or smaller than the published run says which of
 * its parameters (`converge`) set that; run it again with each of them doubled. A figure that
 * moves by 3 % or more has not converged at the shipped size, and the case must run at the
 * published size instead (the exit status says so).
 */
async function convergeRun() {
  const which = cases.filter((c) => Array.isArray(c.converge) && c.converge.length > 0);
  if (which.length === 0) {
    console.log('validate --converge: no selected case is shortened (none has a "converge" list)');
    return;
  }
  const [shipped, twice] = await runPasses([
    { what: 'as shipped', which },
    { what: 'doubled', which, paramsOf: (c) => c.params.map((p) => doubled(p, c.converge)) },
  ]);
  let moved = 0;
  const body = shipped.map((r, i) => {
    const d = twice[i][3];
    const move = Number.isFinite(r[3]) && Number.isFinite(d) && r[3] !== 0 ? (d - r[3]) / r[3] : NaN;
    const ok = Number.isFinite(move) && Math.abs(move) < 0.03;
    if (!ok) moved++;
    const c = which.find((x) => x.id === r[0]);
    return [r[0], r[1], c.params.filter((p) => c.converge.includes(p.slice(0, p.indexOf('=')))).join(' '), fmt(r[3]), fmt(d), Number.isFinite(move) ? `${(move * 100).toFixed(1)}%` : '-', ok ? 'converged' : 'NOT converged'];
  });
  process.stdout.write(formatTable({ head: ['case', 'check', 'shipped at', 'shipped', 'doubled', 'move', 'under 3 %'], rows: body, align: ['left', 'left', 'left', 'right', 'right', 'right', 'left'] }));
  console.log(`\n${body.length - moved} of ${body.length} figures of shortened cases converged (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (moved > 0) process.exitCode = 1;
}

