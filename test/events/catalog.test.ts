import { describe, expect, it } from 'vitest';
import { EV, parseEventList } from '../../src/events/catalog.js';
import { UsageError } from '../../src/errors.js';

describe('parseEventList: perf\'s -e syntax', () => {
  it('takes the :u, :k, :uk, :h modifiers; a software event keeps them in its name, a tracepoint does not (as perf prints them)', () => {
    const ev = parseEventList(['faults:u,faults:k,faults:uk,cs:u,cs:k,task-clock:k,exceptions:page_fault_user:u,pagefault:*:k']);
    expect(ev.slice(0, 7).map((e) => [e.name, e.counted])).toEqual([
      ['faults:u', true],
      ['faults:k', false],
      ['faults:uk', true],
      ['cs:u', false],
      ['cs:k', true],
      ['task-clock:k', true],
      ['exceptions:page_fault_user', false],
    ]);
    expect(ev[0].id).toBe(EV.PAGE_FAULTS);
    expect(ev.slice(7).every((e) => e.name.startsWith('pagefault:spf_') && !e.name.endsWith(':k') && e.counted)).toBe(true);
    expect(parseEventList(['faults:h'])[0].counted).toBe(false);
  });

  it('one row per event and modifier: faults,page-faults is one, faults,faults:u two', () => {
    expect(parseEventList(['faults,page-faults'])).toHaveLength(1);
    expect(parseEventList(['faults,faults:u']).map((e) => e.name)).toEqual(['faults', 'faults:u']);
    expect(parseEventList(['exceptions:page_fault_user:u,exceptions:page_fault_user:k']).map((e) => e.counted)).toEqual([false, true]);
  });

  it('keeps a hardware event perf knows as not supported (cycles, instructions, cache events), with its modifier', () => {
    const ev = parseEventList(['cycles,instructions:u,L1-dcache-load-misses,branch-misses,faults']);
    expect(ev.map((e) => [e.name, e.supported])).toEqual([
      ['cycles', false],
      ['instructions:u', false],
      ['L1-dcache-load-misses', false],
      ['branch-misses', false],
      ['faults', true],
    ]);
  });

  it('a name perf does not know, or a modifier it does not take here, is perf\'s syntax error', () => {
    for (const bad of ['cyclez', 'faults:x', 'faults:', 'pgfault', 'nosuch:u']) expect(() => parseEventList([bad]), bad).toThrow(UsageError);
    expect(() => parseEventList(['faults,faults:q'])).toThrow(/event syntax error: 'faults,faults:q'\n {28}\\___ parser error/);
  });
});
