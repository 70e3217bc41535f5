/**
 * The memory-management ABI the importer reads in a recording: page size, mmap(2) prot and
 * flags bits, madvise(2) advice (x86-64 values).
 */

export const PAGE = 4096;
/** mmap(2) prot and flags bits (include/uapi/asm-generic/mman-common.h, x86 mman.h). */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
/** madvise(2) advice the workload language has (include/uapi/asm-generic/mman-common.h). */
export const MADVISE: Readonly<Record<number, 'dontneed' | 'hugepage' | 'nohugepage' | 'pageout'>> = { 4: 'dontneed', 14: 'hugepage', 15: 'nohugepage', 21: 'pageout' };
