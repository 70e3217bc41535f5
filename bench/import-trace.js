// A synthetic `perf script` trace of about N lines for the import benchmark (bench/run.js, the
// `import` row; docs/import.md): T threads of one process (perf script's default fields, no pid),
// each in rounds like fixtures/perf-captures/import/app.c: mmap 4 MiB anonymous, write its pages
// in a scattered order (so that no two faults make one touch: one script line per fault, the
// worst case for the importer), mprotect half read-only, MADV_DONTNEED the other half, write it
// again, munmap. Written to a file as it is made (never held whole in memory).
//
//   node bench/import-trace.js FILE [LINES]     (default 1000000)
import { closeSync, openSync, writeSync } from 'node:fs';

const PAGE = 4096;
const SIZE = 4 << 20;
const PAGES = SIZE / PAGE;

/** Write about `lines` lines of trace to `path`; returns the number written and the fault lines. */
export function writeImportTrace(path, lines, threads = 8) {
  const fd = openSync(path, 'w');
  let buf = [];
  let n = 0;
  let faults = 0;
  let us = 0;
  const hex = (v, w = 8) => `0x${v.toString(16).padStart(w, '0')}`;
  const out = (tid, text) => {
    us += 3;
    const t = `${1000 + Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    buf.push(`             app ${100 + tid} [00${tid % 2}]  ${t}: ${text}\n`);
    n++;
    if (buf.length >= 4096) {
      writeSync(fd, buf.join(''));
      buf = [];
    }
  };
  let round = 0;
  while (n < lines) {
    const tid = round % threads;
    const base = 0x7f0000000000 + (round % 1024) * 2 * SIZE;
    out(tid, `    syscalls:sys_enter_mmap: addr: 0x00000000, len: ${hex(SIZE)}, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000`);
    out(tid, `     syscalls:sys_exit_mmap: ${hex(base, 12)}`);
    // Every page once, in a scattered order (a stride coprime to the page count).
    for (let i = 0; i < PAGES && n < lines; i++) {
      const p = (i * 97) % PAGES;
      out(tid, ` exceptions:page_fault_user: address=${hex(base + p * PAGE + 8, 12)} ip=0x401000 error_code=0x6`);
      faults++;
    }
    out(tid, `syscalls:sys_enter_mprotect: start: ${hex(base, 12)}, len: ${hex(SIZE / 2)}, prot: 0x00000001`);
    out(tid, ` syscalls:sys_enter_madvise: start: ${hex(base + SIZE / 2, 12)}, len_in: ${hex(SIZE / 2)}, behavior: 0x00000004`);
    for (let i = 0; i < PAGES / 2 && n < lines; i++) {
      const p = PAGES / 2 + ((i * 97) % (PAGES / 2));
      out(tid, ` exceptions:page_fault_user: address=${hex(base + p * PAGE, 12)} ip=0x401000 error_code=0x6`);
      faults++;
    }
    out(tid, `  syscalls:sys_enter_munmap: addr: ${hex(base, 12)}, len: ${hex(SIZE)}`);
    round++;
  }
  writeSync(fd, buf.join(''));
  closeSync(fd);
  return { lines: n, faults };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2];
  if (path === undefined) {
    console.error('usage: node bench/import-trace.js FILE [LINES]');
    process.exit(2);
  }
  const r = writeImportTrace(path, Number(process.argv[3] ?? 1e6));
  console.log(`${path}: ${r.lines} lines, ${r.faults} faults`);
}
