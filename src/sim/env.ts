import type { Task } from '../engine/engine.js';
import { Rng } from '../engine/rng.js';
import { evalExpr, ExprEvalError, type ExprScope } from '../workload/expr.js';
import type { Expr, Pos } from '../workload/ir.js';

/** What a workload thread's expressions see: its variables, regions and built-ins, and its parents'. */

/** A mapped region of the workload: where it starts and how long it is (bytes). */
export interface Region {
  start: number;
  len: number;
}

/** Variables of a thread: its own, then its creator's (threads share the address space). */
export class Env {
  readonly vars = new Map<string, number>();
  readonly regions = new Map<string, Region>();
  /** The task whose clock `now` reads (set for a thread's own environment). */
  task: Task | null = null;
  /** This thread's workload stream (random(), uniform(), choose()), made at its first draw. */
  private rng: Rng | null = null;
  constructor(
    readonly parent: Env | null,
    readonly builtins: Map<string, number>,
    /**
     * The seed of the thread's workload stream: streamSeed() of the workload's $seed and where the
     * thread was created (process, statement, index), never of the schedule (docs/workload-language.md#random-numbers).
     */
    readonly streamKey: number | null = null,
  ) {}
  /** A uniform float in [0, 1) from the stream of this environment's thread (or the nearest enclosing one's). */
  draw(): number {
    for (let e: Env | null = this; e !== null; e = e.parent) {
      if (e.streamKey === null) continue;
      e.rng ??= new Rng(e.streamKey);
      return e.rng.float53();
    }
    throw new Error('a workload environment without a stream');
  }
  /** The task of this environment or the nearest enclosing one. */
  owner(): Task | null {
    for (let e: Env | null = this; e !== null; e = e.parent) if (e.task !== null) return e.task;
    return null;
  }
  region(name: string): Region | undefined {
    for (let e: Env | null = this; e !== null; e = e.parent) {
      const r = e.regions.get(name);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  variable(name: string): number | undefined {
    for (let e: Env | null = this; e !== null; e = e.parent) {
      const v = e.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

/**
 * Evaluate an expression in a thread's environment: `$name` reads a built-in, then a parameter;
 * a bare name a variable (or `now`, the task's simulated time in seconds); pages(r) a region's
 * size in pages. Errors are reported through `fail` at the expression's position.
 */
export function evalIn(e: Expr, env: Env, params: ReadonlyMap<string, number>, pageSize: number, fail: (pos: Pos, msg: string) => never): number {
  const scope: ExprScope = {
    param: (name, pos) => {
      const b = env.builtins.get(name);
      if (b !== undefined) return b;
      const p = params.get(name);
      if (p === undefined) fail(pos, `unknown parameter '$${name}'`);
      return p;
    },
    variable: (name, pos) => {
      const v = env.variable(name);
      if (v !== undefined) return v;
      // `now`: the task's simulated time, in seconds.
      if (name === 'now') return (env.owner()?.clock ?? 0) / 1e9;
      fail(pos, `'${name}' has no value here`);
    },
    pages: (name, pos) => {
      const r = env.region(name);
      if (r === undefined) fail(pos, `region '${name}' is not mapped here`);
      return Math.ceil(r.len / pageSize);
    },
    random: () => env.draw(),
  };
  try {
    return evalExpr(e, scope);
  } catch (err) {
    if (err instanceof ExprEvalError) fail(err.pos, err.message);
    throw err;
  }
}
