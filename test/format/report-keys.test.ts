import { describe, expect, it } from 'vitest';
import { breakdownKeysFor, COLUMNS, DEFAULT_SORT, displayKey, keyOf, parseSortKeys, SORT_KEYS, type SortKey } from '../../src/format/report-keys.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';

const s = (o: Partial<TraceSample>): TraceSample => ({ type: 'sample', ts: 0, cpu: 3, pid: 1000, tid: 1002, comm: 'ebizzy', event: 'faults', ...o });
const pte = s({ event: 'pagefault:spf_pte_lock', caller: '0xffffffff812004c0', sym: 'pte_map_lock+0xc0', vm_start: '0x7f00', vm_end: '0x7f80', address: '0x7f10' });
const exc = s({ event: 'exceptions:page_fault_user', address: '0x7f10', ip: '0x401390', error_code: 6 });
const sw = s({});
const shown = (k: SortKey, x: TraceSample): string => displayKey(k, keyOf(k, x));

describe('report sort keys', () => {
  it('takes perf\'s keys, perf\'s default (comm,dso,sym) and perf\'s full name symbol', () => {
    expect(parseSortKeys(DEFAULT_SORT)).toEqual(['comm', 'dso', 'sym']);
    expect(parseSortKeys('pid,symbol,cpu,dso,tgid,symoff')).toEqual(['pid', 'sym', 'cpu', 'dso', 'tgid', 'symoff']);
    expect(() => parseSortKeys('srcline')).toThrow(`unknown --sort key: 'srcline' (keys: ${SORT_KEYS.join(', ')})`);
  });

  it('puts tracepoint samples in [kernel.kallsyms] at the function they fire in; software events are [unknown]', () => {
    expect([pte, exc, sw].map((x) => shown('dso', x))).toEqual(['[kernel.kallsyms]', '[kernel.kallsyms]', '[unknown]']);
    expect([pte, exc, sw].map((x) => shown('sym', x))).toEqual(['[k] pte_map_lock', '[k] exc_page_fault', '[unknown]']);
    expect([pte, exc, sw].map((x) => shown('symoff', x))).toEqual(['[k] pte_map_lock+0xc0', '[k] exc_page_fault', '[unknown]']);
    expect(shown('caller', pte)).toBe(shown('symoff', pte));
    // A caller the writer could not name: perf's unresolved address.
    const bare = s({ event: 'pagefault:spf_vma_changed', caller: '0xffffffff81abcdef' });
    expect([shown('dso', bare), shown('sym', bare)]).toEqual(['[kernel.kallsyms]', '[k] 0xffffffff81abcdef']);
  });

  it('puts a fault sample with its ip at the workload statement that faulted: dso the workload file, symbol [.] FILE:LINE', () => {
    const at = s({ ip: '0x401840', address: '0x7f10' });
    expect([keyOf('dso', at, 'ebizzy.spf'), keyOf('sym', at, 'ebizzy.spf'), keyOf('symoff', at, 'ebizzy.spf')]).toEqual(['ebizzy.spf', '[.] ebizzy.spf:132', '[.] ebizzy.spf:132']);
    // No program known (no header), or an ip that is no statement's: perf's unresolved forms.
    expect(keyOf('dso', at)).toBe('[unknown]');
    expect(keyOf('sym', s({ ip: '0x401843' }), 'ebizzy.spf')).toBe('[.] 0x401843');
    // A tracepoint's ip (exceptions:*) stays the kernel's site; caller is for kernel callers only.
    expect(keyOf('dso', exc, 'ebizzy.spf')).toBe('[kernel.kallsyms]');
    expect(keyOf('caller', at, 'ebizzy.spf')).toBe('[unknown]');
  });

  it('prints threads as perf\'s pid key does (%7d:comm of the thread), tgid the process, cpu as %03d', () => {
    expect(shown('pid', pte)).toBe('   1002:ebizzy');
    expect(shown('tid', pte)).toBe('   1002:ebizzy');
    expect(shown('tgid', pte)).toBe('   1000:ebizzy');
    expect(shown('cpu', pte)).toBe('003');
    expect(COLUMNS.pid.header).toBe('    Pid:Command');
    expect(COLUMNS.tgid.header).toBe('   Tgid:Command');
    expect([COLUMNS.dso.header, COLUMNS.sym.header, COLUMNS.symoff.header]).toEqual(['Shared Object', 'Symbol', 'Symbol Offset']);
  });

  it('groups fault samples by how their fault completed (path, retry, major); N/A where a sample has no such field', () => {
    const done = s({ path: 'spec', retry: false, major: false });
    const slow = s({ event: 'major-faults', path: 'mmap', retry: true, major: true });
    expect([done, slow, sw, pte].map((x) => [shown('path', x), shown('retry', x), shown('major', x)])).toEqual([
      ['spec', 'no', 'no'],
      ['mmap', 'yes', 'yes'],
      ['N/A', 'N/A', 'N/A'],
      ['N/A', 'N/A', 'N/A'],
    ]);
    expect(shown('retry', s({ retry: 1 as unknown as boolean }))).toBe('N/A');
  });

  it('breaks rows down by the keys not in the sort, never by another name of one', () => {
    expect(breakdownKeysFor(['comm', 'dso', 'sym'])).toEqual(['symoff', 'path', 'pid', 'cpu', 'vma', 'tgid', 'retry', 'major', 'event']);
    expect(breakdownKeysFor(['tid', 'caller', 'path'])).toEqual(['cpu', 'vma', 'sym', 'dso', 'tgid', 'retry', 'major', 'comm', 'event']);
  });
});
