/**
 * Means and noise over repeated runs, computed as perf computes them (tools/perf/util/stat.c):
 * Welford's running mean and M2; stddev_stats() is the standard deviation of the *mean*
 * (sqrt(M2 / (n - 1) / n)); rel_stddev_stats() is that as a percentage of the mean (0 when the
 * mean is 0). Pure.
 */

export interface Stats {
  readonly n: number;
  readonly mean: number;
  /** Standard deviation of the mean (perf's stddev_stats()). */
  readonly stddev: number;
  /** stddev as a percentage of the mean (perf's rel_stddev_stats()). */
  readonly relPct: number;
}

export function stats(xs: readonly number[]): Stats {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const x of xs) {
    n++;
    const delta = x - mean;
    mean += delta / n;
    m2 += delta * (x - mean);
  }
  const stddev = n < 2 ? 0 : Math.sqrt(m2 / (n - 1) / n);
  return { n, mean, stddev, relPct: mean !== 0 ? (100 * stddev) / mean : 0 };
}

/** perf's avg_stats(). */
export function mean(xs: readonly number[]): number {
  return stats(xs).mean;
}
