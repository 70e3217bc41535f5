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
import { estimateLeftMs, progressEnabled, progressFor, withProgress } from '../../src/ui/progress.js';

/** A terminal-like stream that keeps what is written. */
class FakeTty extends EventEmitter {
  isTTY = true;
  columns = 160;
  rows = 40;
  out = '';
  write(s: string, cb?: () => void): boolean {
    this.out += s;
    cb?.();
    return true;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

describe('progress controller', () => {
  it('estimates the wall time left from the rate so far, only with a known total', () => {
    expect(estimateLeftMs(2e9, 10e9, 1000)).toBe(4000);
    expect(estimateLeftMs(12e9, 10e9, 1000)).toBe(0);
    expect(estimateLeftMs(2e9, undefined, 1000)).toBeUndefined();
    expect(estimateLeftMs(0, 10e9, 1000)).toBeUndefined();
  });

  it('is on for a terminal only, and never under CI', () => {
    expect(progressEnabled({ isTTY: true }, {})).toBe(true);
    expect(progressEnabled({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(progressEnabled({ isTTY: true }, { CI: '' })).toBe(false); // ink's is-in-ci: set at all
    expect(progressEnabled({ isTTY: true }, { CONTINUOUS_INTEGRATION: '1' })).toBe(false);
    expect(progressEnabled({ isTTY: true }, { CI: 'false' })).toBe(true);
    expect(progressEnabled({ isTTY: true }, { CI: '0' })).toBe(true);
    expect(progressEnabled({ isTTY: false }, {})).toBe(false);
    expect(progressEnabled({}, {})).toBe(false);
  });

  it('takes the label from the command line and the expected duration from the `seconds` parameter', () => {
    const p = progressFor(prepareRun('ebizzy', ['threads=2', 'seconds=2s'], { cpus: '2' }));
    expect(p).toMatchObject({ label: 'ebizzy threads=2 seconds=2s', totalSimNs: 2e9 });
    expect(progressFor(prepareRun('kamezawa-race', ['threads=2'], { cpus: '2' })).totalSimNs).toBeUndefined();
  });

  it('runs the run and returns its result; nothing is drawn when off; Ctrl-C is handled only meanwhile', async () => {
    const before = process.listenerCount('SIGINT');
    const tty = new FakeTty();
    let during = 0;
    const r = await withProgress({ label: 'x', stream: tty as unknown as NodeJS.WriteStream, enabled: false, delayMs: 0 }, async (ctl) => {
      during = process.listenerCount('SIGINT');
      ctl.onProgress({ simNs: 1, faults: 1 });
      await sleep(50);
      expect(ctl.shouldStop()).toBe(false);
      return 42;
    });
    expect(r).toBe(42);
    expect(during).toBe(before + 1);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(tty.out).toBe('');
  });

  it('draws after the delay and erases itself when the run ends', async () => {
    const tty = new FakeTty();
    await withProgress({ label: 'ebizzy seconds=1s', totalSimNs: 1e9, stream: tty as unknown as NodeJS.WriteStream, enabled: true, delayMs: 100, refreshMs: 10 }, async (ctl) => {
      for (let i = 1; i <= 60; i++) {
        ctl.onProgress({ simNs: i * 1e7, faults: i * 1000 });
        await sleep(10);
        if (i === 5) expect(tty.out).toBe(''); // not before the delay
      }
    });
    expect(tty.out).toContain('ebizzy seconds=1s  [');
    expect(tty.out).toMatch(/sim 0\.\d{3}\/1\.000 s/);
    expect(tty.out).toMatch(/\d{2},000 faults/);
    expect(tty.out).toMatch(/~\d+\.\d s left/);
    // Ends by erasing the line (erase line, cursor up), so the next output starts clean.
    const after = tty.out.slice(tty.out.lastIndexOf('ebizzy seconds=1s'));
    const tail = after.slice(after.indexOf('\n'));
    expect(tail).toContain('\u001B[2K');
    expect(tail.endsWith('\u001B[1A')).toBe(true);
    expect(tail.replace(/\u001B\[[?0-9;]*[A-Za-z]/g, '')).toBe('\n\n');
  });

  it('does not load ink for a run shorter than the delay', async () => {
    const tty = new FakeTty();
    await withProgress({ label: 'x', stream: tty as unknown as NodeJS.WriteStream, enabled: true, delayMs: 10_000, refreshMs: 5 }, async () => {
      await sleep(40);
    });
    expect(tty.out).toBe('');
  });
});
