/**
 * Reading a sweep for `spfperf plot`: the `sweep.json` index that `spfperf sweep` writes (its axes,
 * and one point per combination of their values, each with the `stat --save` document of its
 * runs), and those documents.
 *
 *   {"spfperf_sweep": 1, "spfperf": "0.1.0", "workload": {"name": "page_fault1", "args": ["size=16M"]},
 *    "repeats": 2,
 *    "axes": [{"name": "machine", "kind": "machine", "values": ["x86-vm16"]},
 *             {"name": "config", "kind": "config", "values": ["base", "per-vma-lock"]},
 *             {"name": "cpus", "kind": "cpus", "values": [1, 2, 4]}],
 *    "points": [{"index": 0, "coords": {"machine": "x86-vm16", "config": "base", "cpus": 1},
 *                "file": "points/0000-x86-vm16-base-1.json"}, ...]}
 *
 * A point's file is relative to the directory of sweep.json. Every problem is one line: a
 * sweep.json that cannot be read exits 1 (as any input); one that is not JSON names
 * `file:line:col`, a field of the wrong shape its JSON path (`points[3].coords.cpus`), and a point
 * document that cannot be read or does not match its point names the point: exit 2, a file whose
 * contents are wrong (as a workload script that does not parse).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { errnoText, UsageError } from '../errors.js';
import { parseJsonAt } from '../stats/json-position.js';
import { loadRun } from '../stats/load.js';
import type { RunSummary } from '../stats/save.js';
import { stripBom } from '../trace/header.js';

/** The version of sweep.json this spfperf reads. */
export const SWEEP_FORMAT = 1;

/** What an axis varies: the machine preset, the kernel config, the CPU count, or a workload parameter. */
export type AxisKind = 'machine' | 'config' | 'cpus' | 'param';
const KINDS: readonly AxisKind[] = ['machine', 'config', 'cpus', 'param'];

export type AxisValue = string | number;

export interface SweepAxis {
  readonly name: string;
  readonly kind: AxisKind;
  readonly values: readonly AxisValue[];
}

export interface SweepPoint {
  readonly index: number;
  readonly coords: Readonly<Record<string, AxisValue>>;
  /** As written in sweep.json: relative to its directory. */
  readonly file: string;
}

export interface SweepIndex {
  readonly spfperf_sweep: number;
  readonly spfperf: string;
  readonly workload: { readonly name: string; readonly args: readonly string[] };
  readonly repeats: number;
  readonly axes: readonly SweepAxis[];
  readonly points: readonly SweepPoint[];
}

/** A point with its document read. */
export interface LoadedPoint extends SweepPoint {
  /** The point's document, as a path to open (the sweep's directory joined). */
  readonly path: string;
  /** Each seed's run (a trace as a point: its one summary). */
  readonly runs: readonly RunSummary[];
}

export interface LoadedSweep {
  /** sweep.json's path, as given (or DIR/sweep.json for a directory). */
  readonly file: string;
  readonly index: SweepIndex;
  readonly points: readonly LoadedPoint[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

/** The checks of sweep.json's fields: each failure names its JSON path. */
class Fields {
  constructor(private readonly file: string) {}

  fail(path: string, what: string): never {
    throw new UsageError(`${this.file}: ${path}: ${what}`, 2);
  }

  want(path: string, v: unknown, ok: boolean, what: string): void {
    if (!ok) this.fail(path, `expected ${what}, found ${shown(v)}`);
  }

  str(o: Json, key: string, path: string): string {
    this.want(`${path}${key}`, o[key], typeof o[key] === 'string' && o[key] !== '', 'a non-empty string');
    return o[key] as string;
  }

  obj(o: Json, key: string, path: string): Json {
    this.want(`${path}${key}`, o[key], isObj(o[key]), 'an object');
    return o[key] as Json;
  }

  arr(o: Json, key: string, path: string): unknown[] {
    this.want(`${path}${key}`, o[key], Array.isArray(o[key]), 'an array');
    return o[key] as unknown[];
  }
}

/** Check the parsed sweep.json against the shape above. */
export function checkSweepIndex(doc: unknown, file: string): SweepIndex {
  const f = new Fields(file);
  f.want('(top)', doc, isObj(doc), 'an object (a sweep index)');
  const d = doc as Json;
  if (d.spfperf_sweep === undefined) f.fail('spfperf_sweep', 'missing: not a sweep index (spfperf sweep writes sweep.json)');
  f.want('spfperf_sweep', d.spfperf_sweep, Number.isInteger(d.spfperf_sweep) && (d.spfperf_sweep as number) >= 1, 'a format number');
  if ((d.spfperf_sweep as number) > SWEEP_FORMAT) f.fail('spfperf_sweep', `format ${d.spfperf_sweep as number}, newer than this spfperf reads (${SWEEP_FORMAT})`);
  f.str(d, 'spfperf', '');
  const w = f.obj(d, 'workload', '');
  f.str(w, 'name', 'workload.');
  const args = f.arr(w, 'args', 'workload.');
  args.forEach((a, i) => f.want(`workload.args[${i}]`, a, typeof a === 'string', 'a string'));
  f.want('repeats', d.repeats, Number.isInteger(d.repeats) && (d.repeats as number) >= 1, 'a whole number of runs, 1 or more');

  const axes = f.arr(d, 'axes', '');
  if (axes.length === 0) f.fail('axes', 'expected at least one axis, found none');
  const names = new Set<string>();
  const kinds = new Set<string>();
  const checkedAxes: SweepAxis[] = axes.map((a, i) => {
    const p = `axes[${i}]`;
    f.want(p, a, isObj(a), 'an object');
    const ax = a as Json;
    const name = f.str(ax, 'name', `${p}.`);
    if (names.has(name)) f.fail(`${p}.name`, `axis '${name}' given twice`);
    names.add(name);
    f.want(`${p}.kind`, ax.kind, KINDS.includes(ax.kind as AxisKind), `one of ${KINDS.join(', ')}`);
    if (ax.kind !== 'param' && kinds.has(ax.kind as string)) f.fail(`${p}.kind`, `a second axis of kind '${ax.kind as string}'`);
    kinds.add(ax.kind as string);
    const values = f.arr(ax, 'values', `${p}.`);
    if (values.length === 0) f.fail(`${p}.values`, 'expected at least one value, found none');
    const seen = new Set<AxisValue>();
    values.forEach((v, j) => {
      f.want(`${p}.values[${j}]`, v, typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)), 'a string or a number');
      if (seen.has(v as AxisValue)) f.fail(`${p}.values[${j}]`, `${JSON.stringify(v)} given twice`);
      seen.add(v as AxisValue);
    });
    if (ax.kind === 'cpus') values.forEach((v, j) => f.want(`${p}.values[${j}]`, v, Number.isInteger(v) && (v as number) >= 1, 'a CPU count'));
    return { name, kind: ax.kind as AxisKind, values: values as AxisValue[] };
  });

  const points = f.arr(d, 'points', '');
  if (points.length === 0) f.fail('points', 'expected at least one point, found none');
  const checkedPoints: SweepPoint[] = points.map((pt, i) => {
    const p = `points[${i}]`;
    f.want(p, pt, isObj(pt), 'an object');
    const o = pt as Json;
    f.want(`${p}.index`, o.index, Number.isInteger(o.index) && (o.index as number) >= 0, 'a point number');
    const coords = f.obj(o, 'coords', `${p}.`);
    for (const ax of checkedAxes) {
      const v = coords[ax.name];
      if (!ax.values.includes(v as AxisValue)) f.fail(`${p}.coords.${ax.name}`, `expected one of the axis' values (${ax.values.map((x) => JSON.stringify(x)).join(', ')}), found ${shown(v)}`);
    }
    for (const k of Object.keys(coords)) if (!names.has(k)) f.fail(`${p}.coords.${k}`, 'not an axis of the sweep');
    const file = f.str(o, 'file', `${p}.`);
    return { index: o.index as number, coords: coords as Record<string, AxisValue>, file };
  });
  const at = new Map<string, number>();
  checkedPoints.forEach((pt, i) => {
    const key = JSON.stringify(checkedAxes.map((a) => pt.coords[a.name]));
    const other = at.get(key);
    if (other !== undefined) f.fail(`points[${i}].coords`, `the same coordinates as points[${other}]`);
    at.set(key, i);
  });
  return { spfperf_sweep: d.spfperf_sweep as number, spfperf: d.spfperf as string, workload: { name: w.name as string, args: args as string[] }, repeats: d.repeats as number, axes: checkedAxes, points: checkedPoints };
}

/** Read and check sweep.json (or DIR/sweep.json). */
export function readSweepIndex(arg: string): { file: string; index: SweepIndex } {
  let file = arg;
  let text: string;
  try {
    if (statSync(arg, { throwIfNoEntry: false })?.isDirectory()) file = join(arg, 'sweep.json');
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${errnoText(e as NodeJS.ErrnoException)}`);
  }
  let doc: unknown;
  try {
    doc = parseJsonAt(stripBom(text), file);
  } catch (e) {
    throw new UsageError((e as Error).message, 2);
  }
  return { file, index: checkSweepIndex(doc, file) };
}

/** The document of each point, read and checked against its coordinates. */
export async function loadSweep(arg: string): Promise<LoadedSweep> {
  const { file, index } = readSweepIndex(arg);
  const dir = dirname(file);
  const points: LoadedPoint[] = [];
  for (const [i, pt] of index.points.entries()) {
    const path = isAbsolute(pt.file) ? pt.file : join(dir, pt.file);
    const where = `${file}: points[${i}] (${pt.file})`;
    let runs: readonly RunSummary[];
    try {
      runs = (await loadRun(path)).runs;
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      throw new UsageError(`${where}: ${e.message}`, 2);
    }
    const r = runs[0];
    if (r.workload.name !== index.workload.name) throw new UsageError(`${where}: a run of '${r.workload.name}', not of the sweep's '${index.workload.name}'`, 2);
    for (const ax of index.axes) {
      const v = pt.coords[ax.name];
      if (ax.kind === 'cpus' && r.cpus !== v) throw new UsageError(`${where}: a run on ${r.cpus} CPUs, not on ${v}`, 2);
    }
    points.push({ ...pt, path, runs });
  }
  return { file, index, points };
}
