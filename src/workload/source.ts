/**
 * Small helpers shared by the workload front end: source lines for error carets, syntax errors,
 * and "did you mean" suggestions. Pure: no I/O.
 */
import { WorkloadSyntaxError } from '../errors.js';
import type { Pos } from './ir.js';

/** The text of 1-based line `line` of `source`, without its line terminator ('' past the end). */
export function sourceLine(source: string, line: number): string {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  const nl = source.indexOf('\n', start);
  let text = source.slice(start, nl < 0 ? source.length : nl);
  if (nl >= 0 && text.endsWith('\r')) text = text.slice(0, -1); // CRLF
  return text;
}

/** A WorkloadSyntaxError at `pos`, carrying the offending source line for the caret display. */
export function syntaxError(file: string, source: string, pos: Pos, detail: string): WorkloadSyntaxError {
  return new WorkloadSyntaxError(file, pos.line, pos.col, detail, sourceLine(source, pos.line));
}

/** Optimal-string-alignment edit distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = [];
  for (let i = 0; i <= m; i++) {
    d.push(new Array<number>(n + 1).fill(0));
    d[i]![0] = i;
  }
  for (let j = 0; j <= n; j++) d[0]![j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/**
 * The candidate closest to `word` if its edit distance is at most 2 (and at most half the word's
 * length, so that one- and two-letter words do not "match" unrelated keywords). Ties go to the
 * earlier candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(2, Math.floor(word.length / 2));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const dist = editDistance(word, c);
    if (dist <= limit && dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best;
}

/** `; did you mean 'x'?` or '' (the suffix appended to error messages). */
export function didYouMean(word: string, candidates: Iterable<string>, prefix = ''): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : `; did you mean '${prefix}${c}'?`;
}

/** Parameters every workload has without declaring them. */
export const BUILTIN_PARAMS: readonly string[] = ['ncpus', 'tid', 'pid', 'nthreads', 'seed'];

/** Built-ins with one value for the whole run (usable in parameter defaults and metrics). */
export const GLOBAL_BUILTINS: readonly string[] = ['ncpus', 'seed'];

/** Variables that metric expressions may use besides counters: simulated seconds of the run. */
export const METRIC_BUILTIN_VARS: readonly string[] = ['elapsed'];

/** Bare names every statement can read: `now`, the task's simulated time in seconds. */
export const TASK_BUILTIN_VARS: readonly string[] = ['now'];
