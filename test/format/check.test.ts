import { describe, expect, test } from 'vitest';
import { formatInterleaving, formatViolationReport, ROWS_AFTER, ROWS_BEFORE, type StepRow } from '../../src/format/check.js';
import type { Violation } from '../../src/check/violation.js';

const V: Violation = { invariant: 'no-task-waits-forever', task: 'w/2', fn: 'invalidate_vma_before_free', addr: 0x7f0000200000, timeNs: 910, detail: 'sleeps on vma->wait_queue and nothing will wake it' };

/** 30 steps alternating between two tasks; w/2's last step is step 26 (step 28 is w/3's). */
const rows: StepRow[] = Array.from({ length: 30 }, (_, i) => ({
  step: i,
  timeNs: 30 * i + 0.4,
  task: i % 2 === 0 && i !== 28 ? 'w/2' : 'w/3',
  fn: i % 3 === 0 ? 'do_anonymous_page' : i % 3 === 1 ? 'vma_put' : '',
  addr: i % 2 === 1 ? 0x7f0000200000 + i * 4096 : null,
}));

describe('check report', () => {
  test('the window is centred on the violation task\'s last step, which is marked', () => {
    const text = formatInterleaving(rows, V);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('    step  time (ns)  task  function           address');
    expect(lines.length).toBe(1 + ROWS_BEFORE + 1 + (ROWS_AFTER - 1)); // only 3 steps after step 26
    expect(lines.filter((l) => l.startsWith('  >'))).toEqual(['  >   26        780  w/2   ?                  -']);
    expect(lines[1]).toBe('      18        540  w/2   do_anonymous_page  -');
    expect(lines.at(-1)).toBe('      29        870  w/3   ?                  0x7f000021d000');
  });

  test('a report is the id, the violation line and the table', () => {
    const few = rows.slice(0, 3);
    expect(formatViolationReport('pct:d3:s1:i9:k1', V, few)).toBe(
      'schedule pct:d3:s1:i9:k1\n' +
        'invariant violated: no-task-waits-forever by w/2 in invalidate_vma_before_free at 0x7f0000200000 (910 ns): sleeps on vma->wait_queue and nothing will wake it\n' +
        '    step  time (ns)  task  function           address\n' +
        '       0          0  w/2   do_anonymous_page  -\n' +
        '       1         30  w/3   vma_put            0x7f0000201000\n' +
        '  >    2         60  w/2   ?                  -\n',
    );
    expect(formatInterleaving([], V)).toBe('  (no step was taken)\n');
  });
});
