import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/kconfig.js';
import { EV } from '../../src/events/catalog.js';
import { formatVmstat, vmstatLines } from '../../src/format/vmstat.js';

const names = (cfg: string[]): string[] => vmstatLines(resolveConfig(cfg), () => 0).map((l) => l.name);

describe('vmstat lines', () => {
  it('shows only the counters the config has', () => {
    const thp = ['thp_fault_alloc', 'thp_fault_fallback', 'thp_collapse_alloc', 'thp_collapse_alloc_failed', 'thp_split_pmd', 'thp_zero_page_alloc'];
    expect(names(['base'])).toEqual(['pgfault', 'pgmajfault', 'pgalloc_normal', 'pgfree', 'nr_tlb_remote_flush', 'nr_tlb_remote_flush_received', 'nr_tlb_local_flush_all', 'nr_tlb_local_flush_one', 'pswpin', 'pswpout', ...thp]);
    expect(names(['base', 'CONFIG_TRANSPARENT_HUGEPAGE=n'])).not.toContain('thp_fault_alloc');
    expect(names(['dufour-v11'])).toContain('speculative_pgfault');
    expect(names(['dufour-v11'])).not.toContain('spf_attempt');
    expect(names(['lespinasse'])).toEqual(expect.arrayContaining(['spf_attempt', 'spf_abort', 'SPF_ABORT_ODD', 'SPF_ATTEMPT_ANON']));
    expect(names(['lespinasse', 'CONFIG_SPECULATIVE_PAGE_FAULT_STATS=n'])).not.toContain('SPF_ABORT_ODD');
    expect(names(['per-vma-lock'])).toEqual(expect.arrayContaining(['vma_lock_success', 'vma_lock_abort', 'vma_lock_retry', 'vma_lock_miss']));
    expect(names(['per-vma-lock', 'CONFIG_PER_VMA_LOCK_STATS=n'])).not.toContain('vma_lock_success');
    expect(names(['base', 'CONFIG_DEBUG_TLBFLUSH=n', 'CONFIG_TRANSPARENT_HUGEPAGE=n'])).toEqual(['pgfault', 'pgmajfault', 'pgalloc_normal', 'pgfree', 'pswpin', 'pswpout']);
  });

  it('prints "name value" lines as /proc/vmstat does', () => {
    const lines = vmstatLines(resolveConfig(['dufour-v11']), (id) => (id === EV.PGFAULT ? 42 : id === EV.SPECULATIVE_PGFAULT ? 40 : 0));
    const text = formatVmstat(lines);
    expect(text).toMatch(/^pgfault 42\npgmajfault 0\n/);
    expect(text).toMatch(/\nspeculative_pgfault 40\n$/);
  });
});
