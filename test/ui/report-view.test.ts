import { render } from 'ink-testing-library';
import { createElement } from 'react';
import type { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ReportAggregator, reportViewModel, type ReportInfo } from '../../src/format/report.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';
import { ReportView } from '../../src/ui/ReportView.js';

const s = (o: Partial<TraceSample>): TraceSample => ({ type: 'sample', ts: 0, cpu: 0, pid: 1000, tid: 1001, comm: 'ebizzy', event: 'faults', ...o });

function model(rows = 3) {
  const a = new ReportAggregator(['tid'], ['caller', 'cpu']);
  for (let t = 0; t < rows; t++) for (let i = 0; i <= t; i++) a.add(s({ tid: 1001 + t, cpu: i % 2 }));
  for (let i = 0; i < 3; i++) a.add(s({ event: 'pagefault:spf_pte_lock', tid: 1002, sym: i < 2 ? 'pte_map_lock+0xc0' : 'pte_map_lock+0x4c', caller: '0xffffffff812004c0' }));
  const info: ReportInfo = {
    header: { type: 'header', trace_format: 1, command: 'ebizzy threads=3', spfperf: '0.1.0', events: ['faults', 'pagefault:spf_pte_lock'] },
    summary: null,
    skipped: 0,
    seen: a.counts(),
  };
  return reportViewModel(info, a.result(['faults', 'pagefault:spf_pte_lock']), ['tid'], ['overhead', 'tid'], ['caller', 'cpu']);
}

/**
 * The view rendered, with waits on what matters instead of sleeps: `ready()` resolves once the
 * view listens to its input, `press(key)` once the frame that key leads to has been drawn, and
 * `closed()` once the view has stopped listening.
 */
function view(rows = 3, height = 30) {
  const v = render(createElement(ReportView, { model: model(rows), height }));
  const stdin = v.stdin as unknown as EventEmitter;
  let onFrame: (() => void) | null = null;
  const write = v.stdout.write;
  v.stdout.write = (frame: string) => {
    write(frame);
    onFrame?.();
  };
  const listening = (): boolean => stdin.listenerCount('readable') > 0;
  const change = (event: 'newListener' | 'removeListener', done: () => boolean): Promise<void> =>
    done()
      ? Promise.resolve()
      : new Promise((resolve) => {
          const check = (): void => {
            // (newListener fires before the listener is added.)
            queueMicrotask(() => {
              if (!done()) return;
              stdin.off(event, check);
              resolve();
            });
          };
          stdin.on(event, check);
        });
  return {
    v,
    ready: () => change('newListener', listening),
    closed: () => change('removeListener', () => !listening()),
    press: (key: string): Promise<void> => {
      const drawn = new Promise<void>((resolve) => (onFrame = resolve));
      v.stdin.write(key);
      return drawn.then(() => void (onFrame = null));
    },
  };
}
const rowLines = (frame: string): string[] => frame.split('\n').filter((l) => /^[> ][+-] /.test(l));

describe('ReportView (ink)', () => {
  it('shows the first event\'s table with the cursor on the biggest row', () => {
    const v = render(createElement(ReportView, { model: model(), height: 30 }));
    const f = v.lastFrame()!;
    expect(f).toContain('Trace of: ebizzy threads=3');
    expect(f).toContain("Samples: 6 of event 'faults', Event count (approx.): 6  [1/2]");
    expect(f).toContain('  Overhead      Tid:Command');
    expect(rowLines(f)).toEqual(['>+  50.00%     1003:ebizzy', ' +  33.33%     1002:ebizzy', ' +  16.67%     1001:ebizzy']);
    expect(f).toContain('q quit  b: expand by caller');
    v.unmount();
  });

  it('moves with j/k and the arrows, and stays within the table', async () => {
    const { v, ready, press } = view();
    await ready();
    await press('j');
    expect(rowLines(v.lastFrame()!)[1]).toMatch(/^>\+ +33\.33%/);
    await press('\u001B[B'); // down
    expect(rowLines(v.lastFrame()!)[2]).toMatch(/^>\+ +16\.67%/);
    v.stdin.write('j'); // already at the bottom: nothing to draw
    await press('k'); // so this goes up one from the bottom
    expect(rowLines(v.lastFrame()!)[1]).toMatch(/^>\+ +33\.33%/);
    await press('\u001B[A'); // up
    expect(rowLines(v.lastFrame()!)[0]).toMatch(/^>\+ +50\.00%/);
    v.stdin.write('k'); // already at the top
    await press('j');
    expect(rowLines(v.lastFrame()!)[1]).toMatch(/^>\+ +33\.33%/);
    v.unmount();
  });

  it('expands a row with enter into its breakdown by another key; b changes the key', async () => {
    const { v, ready, press } = view();
    await ready();
    await press('\r');
    let f = v.lastFrame()!;
    expect(f).toContain('>-  50.00%     1003:ebizzy');
    expect(f).toContain('by caller:');
    expect(f).toMatch(/ 50\.00%  \[unknown\]/);
    await press('b');
    f = v.lastFrame()!;
    expect(f).toContain('by cpu:');
    expect(f).toMatch(/ 33\.33%  000\n.* 16\.67%  001/);
    await press('\r');
    expect(v.lastFrame()).not.toContain('by cpu:');
    v.unmount();
  });

  it('goes to the next event\'s table with the right arrow (or tab), back with the left', async () => {
    const { v, ready, press } = view();
    await ready();
    await press('\u001B[C');
    let f = v.lastFrame()!;
    expect(f).toContain("of event 'pagefault:spf_pte_lock'");
    await press('\r');
    f = v.lastFrame()!;
    expect(f).toMatch(/ 66\.67%  \[k\] pte_map_lock\+0xc0\n.* 33\.33%  \[k\] pte_map_lock\+0x4c/);
    await press('\u001B[D');
    expect(v.lastFrame()).toContain("of event 'faults'");
    v.unmount();
  });

  it('fills the terminal: the help line on its last row, however few rows the table has', () => {
    const v = render(createElement(ReportView, { model: model(), height: 30 }));
    const f = v.lastFrame()!.split('\n');
    expect(f).toHaveLength(30);
    expect(f[29]).toMatch(/^↑↓\/jk move/);
    expect(rowLines(v.lastFrame()!)).toHaveLength(3);
    v.unmount();
  });

  it('scrolls a table longer than the terminal to keep the cursor in view', async () => {
    const { v, ready, press } = view(30, 12);
    await ready();
    // 12 rows: 4 heading lines, a blank, title, columns, the list, help.
    expect(rowLines(v.lastFrame()!)).toHaveLength(12 - 4 - 4);
    expect(v.lastFrame()!.split('\n')).toHaveLength(12);
    await press('G');
    const rows = rowLines(v.lastFrame()!);
    expect(rows[rows.length - 1]).toMatch(/^>\+ +0\.\d\d% +1001:ebizzy$/);
    await press('g');
    expect(rowLines(v.lastFrame()!)[0]).toMatch(/^>\+/);
    v.unmount();
  });

  it('takes every key of a burst that arrives in one read: three downs and an enter', async () => {
    for (const burst of ['\u001B[B\u001B[B\u001B[B\r', 'jjj\r']) {
      const { v, ready, press } = view(5);
      await ready();
      // The burst in one write, then 'b' in a write of its own: its frame (the help line names the
      // next breakdown key) is drawn only after the whole burst has been taken.
      v.stdin.write(burst);
      await press('b');
      const f = v.lastFrame()!;
      expect(f).toContain('b: expand by cpu');
      const rows = rowLines(f);
      expect(rows.findIndex((l) => l.startsWith('>'))).toBe(3);
      expect(rows[3]).toMatch(/^>- +13\.33% +1002:ebizzy$/);
      expect(f).toContain('by cpu:');
      v.unmount();
    }
  });

  it('quits on q: the view stops taking input', async () => {
    const { v, ready, closed } = view();
    await ready();
    v.stdin.write('q');
    // Resolves only once nothing listens to the input any more (a view that did not quit would
    // keep listening, and the test would time out). Under CI, ink then writes one last newline.
    await closed();
    expect((v.stdin as unknown as EventEmitter).listenerCount('readable')).toBe(0);
    expect(v.frames.some((f) => f.includes("Samples: 6 of event 'faults'"))).toBe(true);
    v.unmount();
  });
});
