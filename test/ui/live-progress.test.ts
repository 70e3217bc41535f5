import { EventEmitter } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';

// ink decides once, when it is first loaded, whether it runs under CI (is-in-ci), and there it
// draws nothing until it exits. The live display is only ever enabled outside CI
// (progressEnabled), so these tests load ink as a terminal outside CI would, and put the
// environment back afterwards. vi.hoisted runs before the imports below.
const savedCiEnv = vi.hoisted(() => {
  const saved: Record<string, string | undefined> = {};
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  return saved;
});
afterAll(() => {
  for (const [k, v] of Object.entries(savedCiEnv)) if (v !== undefined) process.env[k] = v;
});

import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { prepareRun } from '../../src/sim/setup.js';
import { Progress } from '../../src/ui/Progress.js';
import { InterruptedError } from '../../src/errors.js';
import type { CliIo } from '../../src/io.js';
import { estimateLeftMs, progressEnabled, progressFor, withProgress } from '../../src/ui/live-progress.js';

/** A terminal-like stream that keeps what is written, with the time of its first write. */
class FakeTty extends EventEmitter {
  isTTY = true;
  columns = 160;
  rows = 40;
  out = '';
  firstWriteAt: number | null = null;
  private waits: { re: RegExp; resolve: () => void }[] = [];
  write(s: string, cb?: () => void): boolean {
    this.firstWriteAt ??= performance.now();
    this.out += s;
    cb?.();
    this.waits = this.waits.filter((w) => (w.re.test(this.out) ? (w.resolve(), false) : true));
    return true;
  }
  /** Resolves once what was written matches `re` (a frame was drawn). */
  until(re: RegExp): Promise<void> {
    if (re.test(this.out)) return Promise.resolve();
    return new Promise((resolve) => this.waits.push({ re, resolve }));
  }
}

/** A Ctrl-C source: who is subscribed, and a way to press it. */
function ctrlC(): { onInterrupt: NonNullable<CliIo['onInterrupt']>; press: () => void; readonly subscribed: number } {
  const handlers = new Set<() => void>();
  return {
    onInterrupt: (h) => {
      handlers.add(h);
      return () => void handlers.delete(h);
    },
    press: () => {
      for (const h of [...handlers]) h();
    },
    get subscribed() {
      return handlers.size;
    },
  };
}

const io = (env: CliIo['env'], stderrTty: boolean): CliIo => {
  const tty = new FakeTty() as unknown as CliIo['stderr'];
  return { stdout: tty, stderr: tty, stdin: process.stdin, isTTY: { stdout: false, stderr: stderrTty, stdin: false }, env };
};

describe('Progress (ink)', () => {
  it('shows the run, a bar, simulated time, faults, wall time and the estimate', () => {
    const v = render(createElement(Progress, { label: 'ebizzy', simNs: 3.5e9, totalSimNs: 10e9, faults: 12345, wallMs: 12_300, etaMs: 22_700 }));
    expect(v.lastFrame()).toBe('ebizzy  [######..........]  35%  sim 3.500/10.000 s  12,345 faults  wall 12.3 s  ~22.7 s left');
    // One line, cut (not wrapped) at the terminal's width (100 columns here).
    v.rerender(createElement(Progress, { label: 'ebizzy seconds=10s threads=16', simNs: 3.5e9, totalSimNs: 10e9, faults: 1234567, wallMs: 12_300, etaMs: 22_700 }));
    expect(v.lastFrame()).toMatch(/^ebizzy seconds=10s threads=16  \[#{6}\.{10}\]  35%  sim 3\.500\/10\.000 s .*…$/);
    expect(v.lastFrame()!.length).toBeLessThanOrEqual(100);
    v.rerender(createElement(Progress, { label: 'w', simNs: 2e9, faults: 5, wallMs: 75_000 }));
    expect(v.lastFrame()).toBe('w  sim 2.000 s  5 faults  wall 1m15s');
    v.rerender(createElement(Progress, { label: 'w', simNs: 2e9, faults: 5, wallMs: 1000, etaMs: 5, stopping: true }));
    expect(v.lastFrame()).toContain('stopping (Ctrl-C)...');
    v.unmount();
  });
});

describe('Progress (ink) with units: a sweep\'s points', () => {
  it('the bar and the count follow the points done, not the simulated time', () => {
    const v = render(createElement(Progress, { label: 'sweep w', simNs: 1.2e8, faults: 1000, wallMs: 3200, etaMs: 9100, units: { done: 4, total: 16, name: 'points' } }));
    expect(v.lastFrame()).toBe('sweep w  [####............]  25%  4/16 points  sim 0.120 s  1,000 faults  wall 3.2 s  ~9.1 s left');
    v.rerender(createElement(Progress, { label: 'sweep w', simNs: 0, faults: 0, wallMs: 10, units: { done: 0, total: 0, name: 'points' } }));
    expect(v.lastFrame()).toBe('sweep w  [################] 100%  0/0 points  sim 0.000 s  0 faults  wall 0.0 s');
    v.unmount();
  });
});

describe('progress controller', () => {
  it('estimates the wall time left from the rate so far, only with a known total', () => {
    expect(estimateLeftMs(2e9, 10e9, 1000)).toBe(4000);
    expect(estimateLeftMs(12e9, 10e9, 1000)).toBe(0);
    expect(estimateLeftMs(2e9, undefined, 1000)).toBeUndefined();
    expect(estimateLeftMs(0, 10e9, 1000)).toBeUndefined();
  });

  it('is on for a terminal only, and never under CI', () => {
    expect(progressEnabled(true, {})).toBe(true);
    expect(progressEnabled(true, { CI: 'true' })).toBe(false);
    expect(progressEnabled(true, { CI: '' })).toBe(false); // ink's is-in-ci: set at all
    expect(progressEnabled(true, { CONTINUOUS_INTEGRATION: '1' })).toBe(false);
    expect(progressEnabled(true, { CI: 'false' })).toBe(true);
    expect(progressEnabled(true, { CI: '0' })).toBe(true);
    expect(progressEnabled(false, {})).toBe(false);
  });

  it('takes the label from the command line, the expected duration from `seconds`, the display from io', () => {
    const p = progressFor(prepareRun('ebizzy', ['threads=2', 'seconds=2s'], { cpus: '2' }), io({}, true));
    expect(p).toMatchObject({ label: 'ebizzy threads=2 seconds=2s', totalSimNs: 2e9, enabled: true });
    expect(progressFor(prepareRun('kamezawa-race', ['threads=2'], { cpus: '2' }), io({}, true)).totalSimNs).toBeUndefined();
    expect(progressFor(prepareRun('ebizzy', [], { cpus: '2' }), io({ CI: '1' }, true)).enabled).toBe(false);
    expect(progressFor(prepareRun('ebizzy', [], { cpus: '2' }), io({}, false)).enabled).toBe(false);
  });

  it('runs the run and returns its result; nothing is drawn when off; Ctrl-C is handled only meanwhile', async () => {
    const tty = new FakeTty();
    const c = ctrlC();
    let during = 0;
    const r = await withProgress({ label: 'x', stream: tty as unknown as CliIo['stderr'], enabled: false, delayMs: 0, onInterrupt: c.onInterrupt }, async (ctl) => {
      during = c.subscribed;
      ctl.onProgress({ simNs: 1, faults: 1 });
      expect(ctl.shouldStop()).toBe(false);
      return 42;
    });
    expect(r).toBe(42);
    expect(during).toBe(1);
    expect(c.subscribed).toBe(0);
    expect(tty.out).toBe('');
  });

  it('Ctrl-C: the first asks the run to stop; a second gives it up (onAbort, InterruptedError)', async () => {
    const c = ctrlC();
    let aborted = 0;
    let stopAsked = false;
    let finishRun: () => void = () => {};
    const result = withProgress({ label: 'x', stream: new FakeTty() as unknown as CliIo['stderr'], onInterrupt: c.onInterrupt, onAbort: () => aborted++ }, async (ctl) => {
      c.press();
      stopAsked = ctl.shouldStop() && ctl.interrupted;
      // A run that does not stop by itself: only the second Ctrl-C ends the wait.
      await new Promise<void>((resolve) => (finishRun = resolve));
      return 1;
    });
    await Promise.resolve();
    expect(stopAsked).toBe(true);
    expect(aborted).toBe(0);
    c.press();
    await expect(result).rejects.toBeInstanceOf(InterruptedError);
    expect(aborted).toBe(1);
    expect(c.subscribed).toBe(0);
    finishRun();
  });

  it('draws after the delay and erases itself when the run ends', async () => {
    const tty = new FakeTty();
    const delayMs = 100;
    let t0 = 0;
    await withProgress({ label: 'ebizzy seconds=1s', totalSimNs: 1e9, stream: tty as unknown as CliIo['stderr'], enabled: true, delayMs, refreshMs: 10 }, async (ctl) => {
      t0 = performance.now();
      ctl.onProgress({ simNs: 3e8, faults: 30_000 });
      // The run goes on until a frame with the estimate has been drawn.
      await tty.until(/~\d+\.\d s left/);
    });
    // Not before the delay.
    expect(tty.firstWriteAt! - t0).toBeGreaterThanOrEqual(delayMs - 1);
    expect(tty.out).toContain('ebizzy seconds=1s  [');
    expect(tty.out).toMatch(/sim 0\.300\/1\.000 s/);
    expect(tty.out).toMatch(/30,000 faults/);
    // Ends by erasing the line (erase line, cursor up), so the next output starts clean.
    const after = tty.out.slice(tty.out.lastIndexOf('ebizzy seconds=1s'));
    const tail = after.slice(after.indexOf('\n'));
    expect(tail).toContain('\u001B[2K');
    expect(tail.endsWith('\u001B[1A')).toBe(true);
    expect(tail.replace(/\u001B\[[?0-9;]*[A-Za-z]/g, '')).toBe('\n\n');
  });

  it('with units, the estimate is from the units done so far', async () => {
    const tty = new FakeTty();
    await withProgress({ label: 'sweep w', stream: tty as unknown as CliIo['stderr'], enabled: true, delayMs: 0, refreshMs: 10 }, async (ctl) => {
      ctl.onProgress({ simNs: 1e8, faults: 7, units: { done: 1, total: 4, name: 'points' } });
      await tty.until(/~\d+\.\d s left/);
    });
    expect(tty.out).toMatch(/\[####\.{12}\]  25%  1\/4 points  sim 0\.100 s  7 faults/);
  });

  it('does not load ink for a run shorter than the delay', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const tty = new FakeTty();
      await withProgress({ label: 'x', stream: tty as unknown as CliIo['stderr'], enabled: true, delayMs: 10_000, refreshMs: 5 }, async () => {
        // Twenty redraw periods pass, still well short of the delay.
        await vi.advanceTimersByTimeAsync(100);
      });
      expect(tty.out).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});
