import { UsageError } from '../errors.js';

/**
 * A schedule's id: everything that decides its choices besides the workload, its parameters and
 * the kernel config, so that `spfperf check --replay ID` runs it again exactly.
 *
 *   pct:d3:s1:i417        PCT, depth 3, seed 1, the 418th schedule (index 417)
 *   random:s1:i12         random walk, seed 1, index 12
 *   pct:d3:s1:i417:k1     ... keeping only priority change point 1 (a shrunk schedule)
 *   random:s1:i12:k0-3,9  ... keeping only the deviations 0 to 3 and 9 from the plain order
 *   random:s1:i12:k-      ... keeping none
 *
 * `k` lists, by ordinal, the points of the schedule that are kept: PCT's priority change points,
 * or the random walk's deviations (a choice other than the task whose turn it was); without it
 * all are kept. The shrinker (shrink.ts) drops points and writes what is left here.
 */

export type Strategy = 'random' | 'pct';
export const STRATEGIES: readonly Strategy[] = ['random', 'pct'];

export interface ScheduleId {
  readonly strategy: Strategy;
  /** PCT's bug depth d (d - 1 priority change points); 0 for random, which has none. */
  readonly depth: number;
  readonly seed: number;
  readonly index: number;
  /** Ordinals of the kept points, ascending; null: all of them. */
  readonly keep: readonly number[] | null;
}

/** A set of whole numbers as ascending ranges: 0-3,9 ('-' when empty). */
function formatKeep(keep: readonly number[]): string {
  if (keep.length === 0) return '-';
  const parts: string[] = [];
  for (let i = 0; i < keep.length; ) {
    let j = i;
    while (j + 1 < keep.length && keep[j + 1] === keep[j] + 1) j++;
    parts.push(j === i ? `${keep[i]}` : `${keep[i]}-${keep[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function formatScheduleId(id: ScheduleId): string {
  const depth = id.strategy === 'pct' ? `:d${id.depth}` : '';
  const keep = id.keep === null ? '' : `:k${formatKeep(id.keep)}`;
  return `${id.strategy}${depth}:s${id.seed}:i${id.index}${keep}`;
}

const MAX_U32 = 2 ** 32 - 1;

/** The id `text` stands for, or a UsageError naming --replay. */
export function parseScheduleId(text: string): ScheduleId {
  const bad = (why: string): never => {
    throw new UsageError(`option '--replay': '${text}' is not a schedule id (${why}; e.g. pct:d3:s1:i417 or random:s1:i12:k0-3,9)`);
  };
  const m = /^(random|pct)(?::d(\d+))?:s(\d+):i(\d+)(?::k(-|\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*))?$/.exec(text);
  if (m === null) return bad('expected strategy:d<depth>:s<seed>:i<index>[:k<kept points>]');
  const strategy = m[1] as Strategy;
  if (strategy === 'pct' && m[2] === undefined) return bad('a pct id needs its depth, d<n>');
  if (strategy === 'random' && m[2] !== undefined) return bad('a random id has no depth');
  const depth = m[2] === undefined ? 0 : Number(m[2]);
  if (strategy === 'pct' && (depth < 1 || depth > MAX_DEPTH)) return bad(`depth ${depth} is out of range (1..${MAX_DEPTH})`);
  const seed = Number(m[3]);
  const index = Number(m[4]);
  if (seed > MAX_U32) return bad(`seed ${m[3]} is out of range (0..${MAX_U32})`);
  if (!Number.isSafeInteger(index) || index > MAX_U32) return bad(`index ${m[4]} is out of range (0..${MAX_U32})`);
  let keep: number[] | null = null;
  if (m[5] !== undefined) {
    keep = [];
    if (m[5] !== '-') {
      for (const part of m[5].split(',')) {
        const [a, b] = part.split('-').map(Number);
        const hi = b ?? a;
        if (hi < a || hi - a > 1_000_000) return bad(`range ${part} is not ascending`);
        for (let v = a; v <= hi; v++) keep.push(v);
      }
      for (let i = 1; i < keep.length; i++) if (keep[i] <= keep[i - 1]) return bad('kept points must ascend without repeats');
    }
  }
  return { strategy, depth, seed, index, keep };
}

/** The deepest PCT schedule accepted (d - 1 change points; PCT's useful depths are small). */
export const MAX_DEPTH = 64;

/**
 * A 32-bit seed for one stream of schedule `index` (splitmix32 of seed, index and the stream's
 * number), so that each schedule's engine and policy draw from streams of their own.
 */
export function scheduleSeed(seed: number, index: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(index >>> 0, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
