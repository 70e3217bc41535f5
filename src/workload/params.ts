/**
 * Parameter resolution: defaults evaluated in declaration order, with command-line overrides.
 * Pure: no I/O.
 */
import { UsageError } from '../errors.js';
import type { Expr, Pos, Workload } from './ir.js';
import { ExprEvalError, evalExpr, walkExpr } from './expr.js';
import { parseNumberLiteral } from './lexer.js';
import { BUILTIN_PARAMS, didYouMean, syntaxError } from './source.js';

/** What a parameter measures, judged from the unit suffixes in its default. */
export type ParamDimension = 'bytes' | 'ns' | undefined;

/**
 * The dimension of each parameter: 'ns' if its default has a duration literal (`0.1s`) or uses a
 * duration parameter, 'bytes' likewise for sizes, undefined for plain numbers (or a mix).
 */
export function paramDimensions(w: Workload): Map<string, ParamDimension> {
  const dims = new Map<string, ParamDimension>();
  for (const p of w.params) {
    let bytes = false;
    let ns = false;
    walkExpr(p.value, (e: Expr) => {
      const d = e.k === 'num' ? e.unit : e.k === 'param' ? dims.get(e.name) : undefined;
      if (d === 'bytes') bytes = true;
      if (d === 'ns') ns = true;
    });
    dims.set(p.name, ns && !bytes ? 'ns' : bytes && !ns ? 'bytes' : undefined);
  }
  return dims;
}

/**
 * Parse one override value with the DSL's literal rules (`16`, `0x10`, `64M`, `2s`, `-1`).
 * A plain number given for a duration parameter is taken as seconds (`seconds=2` is 2 s, not
 * 2 ns); for a size parameter, as bytes.
 */
function parseOverrideValue(w: Workload, name: string, raw: string, dim: ParamDimension): number {
  const bad = (why: string): never => {
    throw new UsageError(`bad value '${raw}' for parameter '${name}' of workload '${w.name}': ${why}`);
  };
  const negative = raw.startsWith('-');
  const text = negative ? raw.slice(1) : raw;
  let r = parseNumberLiteral(text);
  if (!r.ok) return bad(r.message);
  if (r.lit.unit === undefined && dim === 'ns') {
    r = parseNumberLiteral(`${text}s`);
    if (!r.ok) return bad(r.message);
  }
  const unit = r.lit.unit;
  if (unit !== undefined && dim !== undefined && unit !== dim) {
    return bad(`'${name}' is a ${dim === 'ns' ? 'duration (e.g. 2s, 500ms)' : 'size (e.g. 64M, 4K)'}, not a ${unit === 'ns' ? 'duration' : 'size'}`);
  }
  return negative ? -r.lit.value : r.lit.value;
}

/**
 * Values of every parameter of `w` plus the given built-ins (e.g. { ncpus: 8, seed: 1 }).
 * `overrides` are `name=value` strings from the command line; the last one for a name wins.
 * Throws UsageError for a malformed, unknown or bad override, WorkloadSyntaxError for a default
 * that cannot be evaluated (division by zero, a name with no value).
 */
export function resolveParams(
  w: Workload,
  overrides: ReadonlyArray<string>,
  builtins: Readonly<Record<string, number>>,
): Map<string, number> {
  const declared = new Set(w.params.map((p) => p.name));
  const dims = paramDimensions(w);
  const given = new Map<string, number>();
  for (const o of overrides) {
    const eq = o.indexOf('=');
    const name = eq < 0 ? '' : o.slice(0, eq).trim();
    const raw = eq < 0 ? '' : o.slice(eq + 1).trim();
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || raw === '') {
      throw new UsageError(`malformed parameter '${o}': expected name=value (e.g. threads=16, size=64M, seconds=2s)`);
    }
    if (!declared.has(name)) {
      const known = w.params.map((p) => p.name);
      if (BUILTIN_PARAMS.includes(name)) {
        throw new UsageError(`'${name}' is a built-in of workload '${w.name}' and cannot be set as a parameter (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
      }
      throw new UsageError(
        `unknown parameter '${name}' for workload '${w.name}' (known: ${known.length > 0 ? known.join(', ') : 'none'})${didYouMean(name, known)}`,
      );
    }
    given.set(name, parseOverrideValue(w, name, raw, dims.get(name)));
  }

  const values = new Map<string, number>(Object.entries(builtins));
  const fail = (pos: Pos, detail: string): never => {
    throw syntaxError(w.file, w.source, pos, detail);
  };
  for (const p of w.params) {
    const o = given.get(p.name);
    if (o !== undefined) {
      values.set(p.name, o);
      continue;
    }
    let v: number;
    try {
      v = evalExpr(p.value, {
        param: (name, pos) => {
          const x = values.get(name);
          if (x === undefined || !isEarlier(w, name, p.name)) {
            return fail(pos, `'$${name}' has no value in the default of parameter '${p.name}'`);
          }
          return x;
        },
        variable: (name, pos) => fail(pos, `a parameter default cannot use the variable '${name}'`),
        pages: (_r, pos) => fail(pos, 'pages() cannot be used in a parameter default'),
      });
    } catch (e) {
      if (e instanceof ExprEvalError) fail(e.pos, `${e.message} in the default of parameter '${p.name}'`);
      throw e;
    }
    if (!Number.isFinite(v)) fail(p.pos, `the default of parameter '${p.name}' is not a finite number`);
    values.set(p.name, v);
  }
  return values;
}

/** Whether `name` is a built-in or a parameter declared before `of`. */
function isEarlier(w: Workload, name: string, of: string): boolean {
  if (!w.params.some((p) => p.name === name)) return true; // a built-in
  for (const p of w.params) {
    if (p.name === of) return false;
    if (p.name === name) return true;
  }
  return false;
}
