import { expect, test } from 'vitest';
import { median, pairedScaling, runRounds } from '../../src/calibrate/rounds.js';

test('runRounds: every count once a round, in turn; each count\'s runs in round order', () => {
  const calls: number[] = [];
  const runs = runRounds(3, [1, 2], (n) => {
    calls.push(n);
    return `${n}@${calls.length}`;
  });
  expect(calls).toEqual([1, 2, 1, 2, 1, 2]);
  expect(runs).toEqual([['1@1', '1@3', '1@5'], ['2@2', '2@4', '2@6']]);
  expect(runRounds(0, [1, 2], () => 0)).toEqual([[], []]);
});

test('a spell of the host\'s over the last runs: the rounds\' scaling is the true one, where whole counts in turn would not be', () => {
  // Two threads do twice the work of one; from the seventh run on the host gives half as much.
  const host = (call: number) => (call >= 6 ? 0.5 : 1);
  let call = 0;
  const thr = runRounds(5, [1, 2], (n) => n * host(call++));
  expect(pairedScaling(thr[1]!, thr[0]!)).toBe(2);
  // Every run of one count first, then every run of the other: the spell falls on the 2-thread runs alone.
  call = 0;
  const one = Array.from({ length: 5 }, () => host(call++));
  const two = Array.from({ length: 5 }, () => 2 * host(call++));
  expect(median(two) / median(one)).toBe(1);
});

test('median', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});
