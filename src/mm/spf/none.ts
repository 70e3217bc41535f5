import type { DesignDescriptor } from './registry.js';

/**
 * The classic kernel: every fault takes the mmap lock for reading (lock_mm_and_find_vma), and VMA
 * writers need nothing beyond the mmap lock held for writing. Every hook is the classic default.
 */
export const design: DesignDescriptor = {
  name: 'none',
  title: 'classic page faults: every fault takes the mmap lock for reading',
  since: '1991-09',
  source: 'mm/memory.c, arch/x86/mm/fault.c (do_user_addr_fault)',
  lockless: 'nothing: every fault takes the mmap lock for reading',
  presets: {
    base: {
      description: 'classic page faults only: every fault takes the mmap lock for reading',
      settings: {},
    },
  },
  create: () => ({}),
};
