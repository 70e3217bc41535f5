import { expect, test } from 'vitest';
import { runInline } from './helpers.js';

test('`now` is the task\'s simulated time in seconds: a phase can be timed', () => {
  const r = runInline('process {\n  let t0 = now\n  compute 3ms\n  count phase_ms (now - t0) * 1000\n}\n');
  const ms = r.counters.get('phase_ms')!;
  expect(ms).toBeGreaterThanOrEqual(3);
  expect(ms).toBeLessThan(3.01);
});

test('each thread reads its own clock', () => {
  const r = runInline(
    'process {\n  threads 2 {\n    let t0 = now\n    if $tid == 1 {\n      compute 2ms\n    }\n    count busy_ms (now - t0) * 1000\n  }\n}\n',
    { ncpus: 2 },
  );
  const ms = r.counters.get('busy_ms')!;
  // thread 0 about 0 ms, thread 1 about 2 ms
  expect(ms).toBeGreaterThanOrEqual(2);
  expect(ms).toBeLessThan(2.1);
});
