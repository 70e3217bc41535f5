import { EV } from '../events/catalog.js';
import type { File } from './filemap.js';
import type { Thread } from './kernel.js';
import { VM_GROWSDOWN } from './types.js';

/**
 * The address-space calls' tracepoints (syscalls:sys_enter_mmap ..., and sched:* in fork.ts):
 * fired where the kernel fires them, counted always (stat -e counts them), their fields built
 * only when a sink records them (record -e 'syscalls:*'). They cost no simulated time: the model
 * charges the syscall, not the tracing of it.
 */
export function fire(th: Thread, id: number, fields: () => number[]): void {
  if (th.k.em.sampling(id)) th.k.em.hit(id, th, fields());
  else th.k.em.count(id, th);
}

/** mmap(2) flags and prot bits (include/uapi/asm-generic/mman-common.h, x86-64 values). */
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_GROWSDOWN = 0x100;
const MAP_POPULATE = 0x8000;
/** The fds a traced file mapping is given: one per file, above stdin/stdout/stderr. */
const FIRST_FD = 3;

/**
 * syscalls:sys_enter_mmap (syscall_trace_enter(), arch/x86/entry/common.c): the arguments of the
 * mmap(2) the workload made. `prot` is the model's (PROT_* bits, VM_GROWSDOWN for a stack); a
 * shared anonymous mapping's file is the kernel's /dev/zero shmem file, so it is MAP_ANONYMOUS.
 */
export function traceSysEnterMmap(th: Thread, length: number, prot: number, shared: boolean, file: File | null, populate: boolean): void {
  fire(th, EV.SYS_ENTER_MMAP, () => {
    const anon = file === null || th.k.anonShmem.includes(file);
    const flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (anon ? MAP_ANONYMOUS : 0) | (prot & VM_GROWSDOWN ? MAP_GROWSDOWN : 0) | (populate ? MAP_POPULATE : 0);
    return [0, length, prot & 7, flags, anon ? -1 : FIRST_FD + file.id, 0];
  });
}

/** syscalls:sys_exit_mmap (syscall_trace_exit()): the address mmap returned, or -errno. */
export function traceSysExitMmap(th: Thread, ret: number): void {
  fire(th, EV.SYS_EXIT_MMAP, () => [ret]);
}

export function traceSysEnterMunmap(th: Thread, addr: number, length: number): void {
  fire(th, EV.SYS_ENTER_MUNMAP, () => [addr, length]);
}

export function traceSysEnterMprotect(th: Thread, addr: number, length: number, prot: number): void {
  fire(th, EV.SYS_ENTER_MPROTECT, () => [addr, length, prot]);
}

/** madvise(2) advice (include/uapi/asm-generic/mman-common.h). */
export const MADV_DONTNEED = 4;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;

export function traceSysEnterMadvise(th: Thread, addr: number, length: number, behavior: number): void {
  fire(th, EV.SYS_ENTER_MADVISE, () => [addr, length, behavior]);
}
