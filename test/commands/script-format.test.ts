import { describe, expect, it } from 'vitest';
import { formatScriptLine, scriptLayout, scriptTime, traceFields } from '../../src/format/script.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';

const s = (o: Partial<TraceSample>): TraceSample => ({ type: 'sample', ts: 207_245_733_123, cpu: 1, pid: 4048, tid: 4048, comm: 'mt', event: 'faults', ...o });

describe('script formatting', () => {
  it('prints time as perf\'s %5lu.%06lu (microseconds, truncated)', () => {
    expect(scriptTime(0)).toBe('    0.000000');
    expect(scriptTime(207_245_733_999)).toBe('  207.245733');
    expect(scriptTime(123_456_789_012_345)).toBe('123456.789012');
  });

  it('reproduces perf script\'s captured lines for a software event and a tracepoint', () => {
    const l = scriptLayout(undefined, ['faults', 'exceptions:page_fault_user']);
    expect(formatScriptLine(s({}), l)).toBe('              mt  4048   207.245733:          1                     faults:');
    const tp = s({ ts: 207_246_444_000, event: 'exceptions:page_fault_user', address: '0x7f0ba6d52b70', ip: '0x7f0ba6d52b70', error_code: 0x14 });
    expect(formatScriptLine(tp, l)).toBe('              mt  4048 [001]   207.246444: exceptions:page_fault_user: address=0x7f0ba6d52b70 ip=0x7f0ba6d52b70 error_code=0x14');
  });

  it('prints pagefault:* fields as their TP_printk does: ip:%lx vma:%lx-%lx address:%lx', () => {
    const x = s({ event: 'pagefault:spf_pte_lock', caller: '0xffffffff812004c0', sym: 'pte_map_lock+0xc0', vm_start: '0x7ff0', vm_end: '0x7ff8', address: '0x7ff1' });
    expect(traceFields(x)).toBe('ip:ffffffff812004c0 vma:7ff0-7ff8 address:7ff1');
    const l = scriptLayout('+ip,+sym', ['pagefault:spf_pte_lock']);
    expect(formatScriptLine(x, l)).toBe('              mt  4048 [001]   207.245733: pagefault:spf_pte_lock: ip:ffffffff812004c0 vma:7ff0-7ff8 address:7ff1 ffffffff812004c0 pte_map_lock+0xc0 ([kernel.kallsyms])');
  });

  it('-F: a list replaces the defaults of every event; +/- change them; mixing is an error', () => {
    const l = scriptLayout('tid,event', ['faults']);
    expect(formatScriptLine(s({}), l)).toBe(' 4048 faults:');
    expect(formatScriptLine(s({ event: 'exceptions:page_fault_user', error_code: 4 }), l)).toBe(' 4048 exceptions:page_fault_user:');
    expect(formatScriptLine(s({}), scriptLayout('-period,+pid', ['faults']))).toBe('              mt  4048/4048    207.245733: faults:');
    expect(() => scriptLayout('comm,+tid', [])).toThrow(/either a list of fields or a list of \+field\/-field/);
    expect(() => scriptLayout('nope', [])).toThrow("-F: unknown field 'nope'");
  });
});
