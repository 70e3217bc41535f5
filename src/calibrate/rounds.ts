/**
 * How calibrate takes a twin's real runs: round by round, each thread count in turn, so that a
 * spell of the host's (another guest on its cores, a busy hypervisor) falls on every count of a
 * round alike; and the scaling as the median of the rounds' own (n threads against one, within
 * the round). Taking every run of one count, then every run of the next, put such a spell on one
 * count only: the 2-thread scaling of short twins moved by +-25 % from one calibrate to the next.
 */

/** Run `runOne(n)` once for each count, `rounds` times over: the runs of each count, in round order. */
export function runRounds<T>(rounds: number, counts: readonly number[], runOne: (n: number) => T): T[][] {
  const out = counts.map((): T[] => []);
  for (let i = 0; i < rounds; i++) counts.forEach((n, j) => out[j]!.push(runOne(n)));
  return out;
}

/** The middle value (the mean of the two middle ones for an even count): calibrate's, and hostcost's samples'. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Each round's throughput at n threads against its one-thread throughput; their median. */
export function pairedScaling(thrN: readonly number[], thrOne: readonly number[]): number {
  return median(thrN.map((x, i) => x / thrOne[i]!));
}
