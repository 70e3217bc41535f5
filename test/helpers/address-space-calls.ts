/**
 * A workload that makes every address-space call the language has (mmap of anonymous memory and
 * of a file, mprotect, madvise, munmap) and a fork whose child faults copy-on-write: what
 * `record`'s syscall and sched tracepoints trace, and what `import` reads back from them.
 */
export const ADDRESS_SPACE_CALLS = `
process {
  buf = mmap 64K rw private anon
  touch buf write
  mprotect buf r offset 0 length 16K
  madvise buf dontneed offset 32K length 16K
  touch buf write offset 32K length 16K
  fork { touch buf write offset 48K length 4K }
  munmap buf
  f = mmap 16K r private file "/data/{pid}.bin"
  touch f read
  munmap f
}
`;
