import type { ScheduleId } from './schedule-id.js';

/**
 * Shrinking a failing schedule (delta debugging, greedy): fewer preemptions (the schedule's
 * kept points: PCT's priority change points, the random walk's deviations), then fewer threads
 * and iterations (smaller values of the workload's parameters, on the same schedule or, failing
 * that, on another of the first `reindex` of the search), then the points again, while the same
 * invariant still breaks. Pure: the caller says whether a candidate fails (by running
 * it); every candidate tried is counted against a budget.
 */

/** A candidate: the workload's parameter values and the schedule. */
export interface Candidate {
  /** The workload's own parameters (not ncpus or seed), in declaration order. */
  readonly params: ReadonlyMap<string, number>;
  readonly id: ScheduleId;
}

export interface ShrinkOptions {
  /** The candidate's run breaks the same invariant. */
  readonly fails: (c: Candidate) => boolean;
  /** Points of the candidate's schedule (all kept when id.keep is null): their ordinals 0..n-1. */
  readonly points: (c: Candidate) => number;
  /** Most candidates run (default 200). */
  readonly budget?: number;
  /**
   * Smaller parameters make another run, on which the schedule of the same index may not break
   * anything: a parameter candidate whose schedule passes is tried again on schedules
   * 0..reindex-1 of the same search, all points kept (default 0: only the same schedule).
   */
  readonly reindex?: number;
}

export interface ShrinkResult {
  readonly shrunk: Candidate;
  /** Candidates run. */
  readonly tries: number;
}

/** Below this, a parameter also tries one less (a count); above, only 1 and halves (a size). */
const STEP_DOWN_MAX = 64;

/** Smaller values to try for a parameter, smallest first: 1, half, and one less for small counts. */
export function smallerValues(v: number): number[] {
  if (!Number.isInteger(v) || v <= 1) return [];
  const out = [1, Math.floor(v / 2), ...(v <= STEP_DOWN_MAX ? [v - 1] : [])].filter((x) => x >= 1 && x < v);
  return [...new Set(out)];
}

export function shrink(start: Candidate, o: ShrinkOptions): ShrinkResult {
  const budget = o.budget ?? 200;
  let tries = 0;
  let cur = start;
  const attempt = (c: Candidate): boolean => {
    if (tries >= budget) return false;
    tries++;
    if (!o.fails(c)) return false;
    cur = c;
    return true;
  };

  /** ddmin over the kept points: drop chunks of halving size while the failure stays. */
  const shrinkPoints = (): void => {
    let keep = cur.id.keep ?? Array.from({ length: o.points(cur) }, (_, i) => i);
    if (keep.length === 0) return;
    if (attempt({ ...cur, id: { ...cur.id, keep: [] } })) return;
    for (let size = Math.max(1, keep.length >> 1); keep.length > 0 && tries < budget; size = Math.max(1, size >> 1)) {
      for (let at = 0; at < keep.length && tries < budget; ) {
        const fewer = [...keep.slice(0, at), ...keep.slice(at + size)];
        if (attempt({ ...cur, id: { ...cur.id, keep: fewer } })) keep = fewer;
        else at += size;
      }
      if (size === 1) break;
    }
  };

  /** Smaller parameters on another schedule of the search: the first that breaks the invariant. */
  const reindexed = (params: ReadonlyMap<string, number>): boolean => {
    for (let index = 0; index < (o.reindex ?? 0) && tries < budget; index++) {
      if (index === cur.id.index && cur.id.keep === null) continue;
      if (attempt({ params, id: { ...cur.id, index, keep: null } })) return true;
    }
    return false;
  };

  /** Each parameter down to the smallest value that still fails, one at a time, until none moves. */
  const shrinkParams = (): void => {
    for (let moved = true; moved && tries < budget; ) {
      moved = false;
      for (const [name, v] of cur.params) {
        for (const smaller of smallerValues(v)) {
          const params = new Map(cur.params).set(name, smaller);
          if (attempt({ ...cur, params }) || reindexed(params)) {
            moved = true;
            break;
          }
        }
      }
    }
  };

  shrinkPoints();
  shrinkParams();
  shrinkPoints();
  return { shrunk: cur, tries };
}
