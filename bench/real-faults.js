#!/usr/bin/env node
// The real kernel's fault rate on this machine, for bench/run.js's fault-rate rows: fresh
// ArrayBuffer pages touched from Node, one write a 4 KiB page, counted with
// process.resourceUsage().minorPageFault and timed around the touch loop alone. Writes one JSON
// line to stdout: {"faults": N, "sec": S, "rate": N / S}.
//
// A process of its own, started by bench/run.js for each measurement: in the bench's process the
// touched buffer (256 MiB) was released whenever V8 next collected it, which was inside the next
// simulated run's timed region (page_fault1 on 16 CPUs: every second run took ~40 ms more, the
// unmapping of the buffer; docs/performance.md). Here it is released as this process exits.
// Three small buffers are touched first, untimed, so that the timed loop runs optimized, as it
// did in the bench's process after its first measurement.
const MiB = 1 << 20;

function touch(size) {
  const before = process.resourceUsage().minorPageFault;
  const t0 = process.hrtime.bigint();
  const buf = new Uint8Array(new ArrayBuffer(size));
  for (let i = 0; i < size; i += 4096) buf[i] = 1;
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  return { faults: process.resourceUsage().minorPageFault - before, sec };
}

for (let i = 0; i < 3; i++) touch(16 * MiB);
const r = touch(256 * MiB);
process.stdout.write(`${JSON.stringify({ faults: r.faults, sec: r.sec, rate: r.faults / r.sec })}\n`);
