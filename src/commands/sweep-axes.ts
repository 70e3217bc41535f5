/**
 * The axes of `spfperf sweep` (docs/sweep.md) and the points they span: parsed from the command
 * line before anything runs, so a bad axis is a one-line error naming its option.
 *
 *   --cpus 1,2,4  1-16  1..176:x2  1..64:+8      CPU counts (a list of numbers, ranges, series)
 *   --machine x86-vm16,p8-80                     machine presets
 *   --config base,dufour-v11+kernel=5.0          kernel configs: one per comma, the --config items
 *                                                of one joined with '+' (may repeat: more configs)
 *   size=16M,32M                                 a workload parameter with several values
 *
 * Points are the product of the axes in this order: machine, then config, then the parameter
 * axes (as given, the first outermost), then cpus, innermost. Pure: no I/O.
 */
import { UsageError } from '../errors.js';
import { MAX_CPUS } from '../sim/setup.js';

export type AxisKind = 'machine' | 'config' | 'cpus' | 'param';

/** One axis as sweep.json lists it. */
export interface Axis {
  readonly name: string;
  readonly kind: AxisKind;
  readonly values: readonly (string | number)[];
}

/** A config of the config axis: its label (as given) and the --config items it stands for. */
export interface ConfigValue {
  readonly label: string;
  readonly items: readonly string[];
}

/** A workload parameter given as name=a,b,c: an axis. */
export interface ParamAxis {
  readonly name: string;
  readonly values: readonly string[];
  /** Its place among the workload arguments. */
  readonly argIndex: number;
}

/** The axes as the command line gives them; an absent one is the run's default (one value). */
export interface SweepAxes {
  readonly machines?: readonly string[];
  readonly configs?: readonly ConfigValue[];
  readonly cpus?: readonly number[];
  readonly params: readonly ParamAxis[];
  /** The workload arguments, axis arguments included (replaced by one value at each point). */
  readonly args: readonly string[];
}

/** One point before it is prepared: what `stat` would be given for it. */
export interface PointSpec {
  readonly machine?: string;
  readonly config?: ConfigValue;
  readonly cpus?: number;
  /** The workload's name=value arguments at this point, in the order given. */
  readonly params: readonly string[];
  /** The value of each parameter axis at this point, by name. */
  readonly paramValues: Readonly<Record<string, string>>;
}

/** A comma-separated list's items, each trimmed; an empty item is an error naming the option. */
function items(option: string, text: string): string[] {
  const out = text.split(',').map((s) => s.trim());
  if (out.some((s) => s === '')) throw new UsageError(`option '${option}': an empty item in '${text}'`);
  return out;
}

function cpuCount(option: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`option '${option}': '${text}' is not a whole number`);
  const n = Number(text);
  if (n < 1 || n > MAX_CPUS) throw new UsageError(`option '${option}': ${n} is out of range (1..${MAX_CPUS})`);
  return n;
}

/**
 * --cpus: comma-separated items, each N, a range A-B (or A..B, every count from A to B), or a
 * series A..B:xK (A, A*K, A*K^2, ... while at most B) or A..B:+K (A, A+K, ...), B itself
 * included when the series steps over it (1..176:x2 is 1,2,4,...,128,176: a machine's whole size
 * is usually the point wanted last). Duplicates are dropped; the order is kept.
 */
export function parseCpuList(text: string, option = '--cpus'): number[] {
  const out: number[] = [];
  for (const item of items(option, text)) {
    const series = /^(\d+)(?:-|\.\.)(\d+)(?::([x+])(\d+))?$/.exec(item);
    if (series === null) {
      if (/^\d+$/.test(item)) out.push(cpuCount(option, item));
      else throw new UsageError(`option '${option}': '${item}' is not a CPU count, a range A-B or a series A..B:xK or A..B:+K`);
      continue;
    }
    const a = cpuCount(option, series[1]);
    const b = cpuCount(option, series[2]);
    if (b < a) throw new UsageError(`option '${option}': '${item}' ends below its start`);
    const op = series[3] ?? '+';
    const k = series[4] === undefined ? 1 : Number(series[4]);
    if (op === 'x' && k < 2) throw new UsageError(`option '${option}': '${item}': the factor must be at least 2, not ${k}`);
    if (op === '+' && k < 1) throw new UsageError(`option '${option}': '${item}': the step must be at least 1, not ${k}`);
    let n = a;
    for (; n <= b; n = op === 'x' ? n * k : n + k) out.push(n);
    if (out[out.length - 1] !== b) out.push(b);
  }
  return [...new Set(out)];
}

/** --machine a,b (may repeat). */
export function parseMachines(texts: readonly string[]): string[] {
  return [...new Set(texts.flatMap((t) => items('--machine', t)))];
}

/**
 * --config: configs separated by commas, the items of one (presets, .config files, KEY=VALUE, as
 * stat's repeated --config takes them, later wins) joined with '+'; repeated --config options add
 * configs. A config's label is its text as given.
 */
export function parseConfigs(texts: readonly string[]): ConfigValue[] {
  const out: ConfigValue[] = [];
  for (const t of texts) {
    for (const label of items('--config', t)) {
      const parts = label.split('+').map((s) => s.trim());
      if (parts.some((s) => s === '')) throw new UsageError(`option '--config': an empty item in '${label}' (items of one config are joined with '+')`);
      if (!out.some((c) => c.label === label)) out.push({ label, items: parts });
    }
  }
  return out;
}

/** Names an axis takes in sweep.json that a parameter may not take too. */
const AXIS_NAMES = ['machine', 'config', 'cpus'];

/**
 * The workload arguments: name=a,b,c (a comma in the value) is an axis of the values; any other
 * argument is passed as it is (resolveParams checks it at each point).
 */
export function parseParamAxes(args: readonly string[]): ParamAxis[] {
  const out: ParamAxis[] = [];
  args.forEach((arg, argIndex) => {
    const eq = arg.indexOf('=');
    if (eq <= 0 || !arg.includes(',', eq)) return;
    const name = arg.slice(0, eq).trim();
    if (AXIS_NAMES.includes(name)) throw new UsageError(`parameter '${name}': its name is that of the ${name} axis (give it once, not as a list)`);
    if (out.some((a) => a.name === name)) throw new UsageError(`parameter '${name}' is given twice`);
    const values = [...new Set(arg.slice(eq + 1).split(',').map((s) => s.trim()))];
    if (values.some((v) => v === '')) throw new UsageError(`parameter '${name}': an empty value in '${arg}'`);
    out.push({ name, values, argIndex });
  });
  return out;
}

/** The cartesian product of `lists`, the first list outermost. */
function product<T>(lists: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const l of lists) out = out.flatMap((prefix) => l.map((v) => [...prefix, v]));
  return out;
}

/** The points of the axes: machine, config, parameter axes (first outermost), cpus innermost. */
export function expandPoints(axes: SweepAxes): PointSpec[] {
  const out: PointSpec[] = [];
  const one = <T>(l: readonly T[] | undefined): (T | undefined)[] => (l === undefined || l.length === 0 ? [undefined] : [...l]);
  for (const machine of one(axes.machines)) {
    for (const config of one(axes.configs)) {
      for (const combo of product(axes.params.map((p) => p.values))) {
        const params = [...axes.args];
        const paramValues: Record<string, string> = {};
        axes.params.forEach((p, i) => {
          params[p.argIndex] = `${p.name}=${combo[i]}`;
          paramValues[p.name] = combo[i];
        });
        for (const cpus of one(axes.cpus)) out.push({ machine, config, cpus, params, paramValues });
      }
    }
  }
  return out;
}

/**
 * A point's file name: its index (4 digits, more past 9999) and its coordinates, every character
 * but letters, digits and ._=- made '_': `0003-x86-vm16-dufour-v11-16cpus-size=16M.json`.
 */
export function pointFileName(index: number, coords: readonly [string, string | number][]): string {
  const parts = coords.map(([name, v]) => (name === 'cpus' ? `${v}cpus` : name === 'machine' || name === 'config' ? String(v) : `${name}=${v}`));
  const slug = parts.join('-').replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 120);
  return `${String(index).padStart(4, '0')}-${slug}.json`;
}
