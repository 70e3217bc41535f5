/**
 * The interpreter's thread groups: `threads` and `fork` wait for their tasks before the next
 * statement; `parallel { ... }` starts every group first, so groups run side by side.
 */
import { describe, expect, test } from 'vitest';
import { runInline } from './helpers.js';

describe('parallel { threads ... threads ... }', () => {
  const groups = (wrap: (a: string, b: string) => string) =>
    runInline(`process {\n${wrap('  threads 1 {\n    compute 1ms\n  }', '  threads 1 {\n    compute 1ms\n  }')}\n}\n`, { ncpus: 2 });

  test('the groups run at the same time; without parallel, one after the other', () => {
    const apart = groups((a, b) => `${a}\n${b}`);
    const together = groups((a, b) => `parallel {\n${a}\n${b}\n}`);
    // Two 1 ms computes on 2 CPUs: about 1 ms side by side, about 2 ms in turn.
    expect(apart.elapsedNs).toBeGreaterThan(2e6);
    expect(together.elapsedNs).toBeGreaterThan(1e6);
    expect(together.elapsedNs).toBeLessThan(1.5e6);
  });

  test('each group keeps its own $tid, $nthreads and barrier', () => {
    const r = runInline(
      `process {
  parallel {
    threads 3 {
      count a_tid $tid
      count a_n $nthreads
      barrier
      count a_after 1
    }
    threads 2 {
      count b_tid $tid
      count b_n $nthreads
      barrier
    }
    fork 2 {
      count forked 1
    }
  }
  count after 1
}
`,
      { ncpus: 4 },
    );
    expect(Object.fromEntries(r.counters)).toEqual({ a_tid: 0 + 1 + 2, a_n: 9, a_after: 3, b_tid: 1, b_n: 4, forked: 2, after: 1 });
  });

  test('the parent waits for every group before its next statement', () => {
    const r = runInline('process {\n  parallel {\n    threads 1 {\n      compute 2ms\n    }\n    threads 1 {\n      compute 1ms\n    }\n  }\n  count done_ms now * 1000\n}\n', { ncpus: 2 });
    expect(r.counters.get('done_ms')).toBeGreaterThanOrEqual(2);
  });
});
