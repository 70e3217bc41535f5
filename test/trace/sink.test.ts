import { describe, expect, test } from 'vitest';
import { CountingSink, type EventSource } from '../../src/trace/sink.js';
import { EV, NUM_EVENTS } from '../../src/events/catalog.js';

const src = (idx: number, kernel = false): EventSource => ({ idx, tid: 100 + idx, pid: 100, comm: 't', kernel, cpuNow: () => 0, timeNow: () => 0 });

describe('CountingSink', () => {
  test('a snapshot gives back a sink with the same totals and per-thread counts', () => {
    const c = new CountingSink();
    c.count(EV.PAGE_FAULTS, src(0), 3);
    c.count(EV.PAGE_FAULTS, src(20), 0.5);
    c.count(EV.TASK_CLOCK, src(2), 1e9 / 3);
    const snap = c.snapshot();
    // Only the threads that counted: 21 threads' worth of events.
    expect(snap.counts.length).toBe(21 * NUM_EVENTS);
    const back = CountingSink.fromSnapshot(structuredClone(snap));
    for (const id of [EV.PAGE_FAULTS, EV.TASK_CLOCK, EV.MINOR_FAULTS]) {
      expect(back.total(id)).toBe(c.total(id));
      for (const idx of [0, 1, 2, 20, 21]) expect(back.of(idx, id)).toBe(c.of(idx, id));
    }
    expect(back.total(EV.PAGE_FAULTS)).toBe(3.5);
    // It goes on counting as the original would.
    back.count(EV.PAGE_FAULTS, src(40), 1);
    expect(back.total(EV.PAGE_FAULTS)).toBe(4.5);
  });
});
