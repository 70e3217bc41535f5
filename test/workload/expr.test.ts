import { describe, expect, test } from 'vitest';
import { ExprEvalError, evalExpr, walkExpr, type ExprScope } from '../../src/workload/expr.js';
import type { Expr, Pos } from '../../src/workload/ir.js';
import { parseWorkload } from '../../src/workload/parser.js';

/** Parse `e` as an expression (via a `compute` statement). */
function parseExpr(e: string): Expr {
  const s = parseWorkload(`process {\ncompute ${e}\n}`, 'x.spf').processes[0]!.body[0]!;
  if (s.k !== 'compute') throw new Error('not compute');
  return s.ns;
}

const calls: string[] = [];
const scope: ExprScope = {
  param: (name: string, pos: Pos) => {
    calls.push(`param ${name}@${pos.line}:${pos.col}`);
    return ({ ncpus: 8, size: 64 * 1024 * 1024 } as Record<string, number>)[name] ?? NaN;
  },
  variable: (name: string) => {
    calls.push(`var ${name}`);
    return ({ i: 3, elapsed: 0.5 } as Record<string, number>)[name] ?? NaN;
  },
  pages: (region: string, pos: Pos) => {
    calls.push(`pages ${region}@${pos.line}:${pos.col}`);
    return region === 'buf' ? 16 : NaN;
  },
};
const ev = (e: string): number => evalExpr(parseExpr(e), scope);

describe('evalExpr', () => {
  test.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['7 / 2', 3.5],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['-(2 + 3)', -5],
    ['!0', 1],
    ['!5', 0],
    ['1 < 2', 1],
    ['2 < 1', 0],
    ['2 <= 2', 1],
    ['3 > 2', 1],
    ['2 >= 3', 0],
    ['4K == 4096', 1],
    ['1 != 1', 0],
    ['2 && 3', 1],
    ['2 && 0', 0],
    ['0 || 0', 0],
    ['0 || -1', 1],
    ['min(3, 1, 2)', 1],
    ['max(3, 1, 2)', 3],
    ['floor(7 / 2)', 3],
    ['ceil(7 / 2)', 4],
    ['floor(-1.5)', -2],
    ['$ncpus * 2', 16],
    ['$size / 4K', 16384],
    ['i + 1', 4],
    ['pages(buf) * 4K', 65536],
    ['1s / 1ms', 1000],
  ])('%s = %d', (e, v) => {
    expect(ev(e)).toBe(v);
  });

  test('names are resolved through the scope with their positions', () => {
    calls.length = 0;
    ev('$ncpus + pages(buf) + i');
    expect(calls).toEqual(['param ncpus@2:9', 'pages buf@2:24', 'var i']);
  });

  test('&& and || short-circuit', () => {
    calls.length = 0;
    expect(ev('0 && $ncpus')).toBe(0);
    expect(ev('1 || $ncpus')).toBe(1);
    expect(calls).toEqual([]);
  });

  test('division and remainder by zero throw ExprEvalError at the operator', () => {
    for (const [e, msg, col] of [
      ['1 / 0', 'division by zero', 11],
      ['1 % (2 - 2)', 'remainder by zero', 11],
    ] as const) {
      let err: unknown;
      try {
        ev(e);
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(ExprEvalError);
      expect((err as ExprEvalError).message).toBe(msg);
      expect((err as ExprEvalError).pos).toEqual({ line: 2, col });
    }
  });

  test('results are plain numbers: integers stay integers', () => {
    expect(Number.isInteger(ev('128M / 4K'))).toBe(true);
    expect(ev('0.1s')).toBe(100_000_000);
  });

  test('walkExpr visits every node, parents first', () => {
    const seen: string[] = [];
    walkExpr(parseExpr('-min($a, b) + !pages(c)'), (e) => seen.push(e.k));
    expect(seen).toEqual(['bin', 'neg', 'call', 'param', 'var', 'not', 'call', 'var']);
  });

  test('random(lo, hi), uniform(lo, hi) and choose(...) draw from the scope\'s stream', () => {
    const draws = [0, 0.999999, 0.5];
    const withDraws: ExprScope = { ...scope, random: () => draws.shift()! };
    const e = (x: string): number => evalExpr(parseExpr(x), withDraws);
    expect(e('random(3, 5)')).toBe(3);
    expect(e('random(3, 5)')).toBe(5);
    expect(e('uniform(-1, 1)')).toBe(0);
    draws.push(0.4, 0.1);
    // choose evaluates only the argument it picks (the other would divide by zero).
    expect(e('choose(1 / 0, 7, 1 / 0)')).toBe(7);
    expect(e('random(-2, -2)')).toBe(-2);
  });

  test('a bad range, or a draw where there is no stream, is an ExprEvalError at the call', () => {
    const withDraws: ExprScope = { ...scope, random: () => 0.5 };
    for (const [x, msg, sc] of [
      ['random(5, 2)', 'random(5, 2): the low bound is above the high bound', withDraws],
      ['random(1, 2.5)', 'random(1, 2.5): the bounds must be whole numbers (uniform(lo, hi) draws a real number)', withDraws],
      ['uniform(1, 0)', 'uniform(1, 0): the low bound is above the high bound', withDraws],
      ['random(0, 2 * 4096T)', 'random(0, 9007199254740992): the range spans more than 2^53 numbers', withDraws],
      ['random(1, 2)', "random() has no value here (it draws from a task's stream)", scope],
    ] as const) {
      let err: unknown;
      try {
        evalExpr(parseExpr(x), sc);
      } catch (y) {
        err = y;
      }
      expect(err, x).toBeInstanceOf(ExprEvalError);
      expect((err as ExprEvalError).message).toBe(msg);
      expect((err as ExprEvalError).pos).toEqual({ line: 2, col: 9 });
    }
  });
});
