import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScriptChain, scriptLayout } from '../../src/format/script.js';
import type { ChainFrame } from '../../src/trace/callchain.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';
import { ROOT } from '../helpers/golden.js';

/**
 * perf script's call-chain output (fixtures/golden/perf-6.1/script-g.txt, a copy of
 * shared/perf-captures/script-g.txt: `perf record -g -e cpu-clock -F 5000 ./mt`, `perf script | head -30`).
 */
const CAPTURE = readFileSync(join(ROOT, 'fixtures', 'golden', 'perf-6.1', 'script-g.txt'), 'utf8');

const SAMPLE_LINE = /^(\S+) +(\d+) +(\d+)\.(\d{6}): +(\d+) (\S+): $/;
const FRAME_LINE = /^\t([ 0-9a-f]{16}) (.+) \((.+)\)$/;

/** The capture read back as samples: each field and frame as perf printed it. */
function parseCapture(text: string): { s: TraceSample; chain: ChainFrame[] }[] {
  const out: { s: TraceSample; chain: ChainFrame[] }[] = [];
  for (const block of text.split('\n\n').filter((b) => b.trim() !== '')) {
    const [head, ...frames] = block.split('\n');
    const m = SAMPLE_LINE.exec(head);
    expect(m, head).not.toBeNull();
    const [, comm, tid, sec, usec, period, event] = m!;
    const ts = (Number(sec) * 1e6 + Number(usec)) * 1000;
    const chain = frames.map((l) => {
      const f = FRAME_LINE.exec(l);
      expect(f, l).not.toBeNull();
      return { ip: `0x${f![1].trim()}`, sym: f![2], ...(f![3] === '[kernel.kallsyms]' ? {} : { dso: f![3] }) };
    });
    out.push({ s: { type: 'sample', ts, cpu: 0, pid: Number(tid), tid: Number(tid), comm, event: event.replace(/:$/, ''), period: Number(period) }, chain });
  }
  return out;
}

describe('formatScriptChain: perf script\'s call-chain layout', () => {
  it('prints the capture\'s samples byte for byte from their fields and frames', () => {
    const samples = parseCapture(CAPTURE);
    expect(samples).toHaveLength(2);
    const layout = scriptLayout(undefined, ['cpu-clock']);
    expect(samples.map(({ s, chain }) => formatScriptChain(s, chain, layout)).join('')).toBe(CAPTURE);
  });

  it('a frame\'s address is right-aligned on 16 columns after a tab; a sample line keeps its blank before the chain', () => {
    const layout = scriptLayout(undefined, ['cpu-clock']);
    const s: TraceSample = { type: 'sample', ts: 250_000, cpu: 3, pid: 1000, tid: 1003, comm: 'page_fault1', event: 'cpu-clock', period: 250000 };
    const text = formatScriptChain(s, [{ ip: '0xffffffff81aeabac', sym: 'clear_page_erms+0x3ac' }, { ip: '0x401480', sym: 'page_fault1.spf:72', dso: 'workloads/page_fault1.spf' }], layout);
    expect(text).toBe('page_fault1  1003     0.000250:     250000 cpu-clock: \n\tffffffff81aeabac clear_page_erms+0x3ac ([kernel.kallsyms])\n\t          401480 page_fault1.spf:72 (workloads/page_fault1.spf)\n\n');
  });
});
