/**
 * How busy the machine was (src/calibrate/proc-stat.ts): /proc/stat's cpu line, and the shares
 * of idle, the measured programs and anything else between two readings.
 */
import { describe, expect, test } from 'vitest';
import { describeLoad, machineLoad, parseChildrenCpuNs, parseProcStat, readChildrenCpuNs, readProcStat, sumLoads } from '../../src/calibrate/proc-stat.js';

// Two readings of a 2-vCPU guest's /proc/stat, 9 s apart (the cpu line and one CPU's).
const A = 'cpu  1149587 0 234197 562391 774 0 2590 0 0 0\ncpu0 574793 0 117098 281195 387 0 1295 0 0 0\nintr 1\n';
const B = 'cpu  1149687 0 234247 563991 774 0 2590 50 0 0\ncpu0 574843 0 117123 281995 387 0 1295 25 0 0\nintr 1\n';

describe('/proc/stat', () => {
  test('the cpu line in ns: guest time is inside user and not added again; steal apart', () => {
    const a = parseProcStat(A)!;
    expect(a.totalNs).toBe((1149587 + 234197 + 562391 + 774 + 2590) * 1e7);
    expect(a.idleNs).toBe((562391 + 774) * 1e7);
    expect(a.stealNs).toBe(0);
    expect(parseProcStat('intr 1\n')).toBeNull();
    expect(parseProcStat('cpu  1 2 x\n')).toBeNull();
  });

  test('shares between two readings: idle, the programs measured (their CPU time), anything else (steal included)', () => {
    // 1800 ticks (18 s of CPU time over 2 CPUs: 9 s): 1600 idle, 100 user, 50 system, 50 steal.
    const l = machineLoad(parseProcStat(A)!, parseProcStat(B)!, 1e9, 2)!;
    expect(l.spanNs).toBe(9e9);
    expect(l.idle).toBeCloseTo(1600 / 1800, 9);
    // The programs' 1 s of the 18 s: the rest of the busy time is someone else's.
    expect(l.ours).toBeCloseTo(100 / 1800, 9);
    expect(l.others).toBeCloseTo(100 / 1800, 9);
    expect(describeLoad(l)).toBe("idle 89 %, the programs measured 6 %, anything else 6 % of the CPUs' time");
    // The programs cannot have used more than the busy time.
    expect(machineLoad(parseProcStat(A)!, parseProcStat(B)!, 1e12, 2)!.others).toBe(0);
    // Too short a span tells nothing.
    expect(machineLoad(parseProcStat(A)!, parseProcStat(A)!, 0, 2)).toBeNull();
  });

  test('several spans weigh by their length', () => {
    const s = sumLoads([
      { idle: 1, ours: 0, others: 0, spanNs: 3e9 },
      null,
      { idle: 0, ours: 0.5, others: 0.5, spanNs: 1e9 },
    ])!;
    expect(s.idle).toBeCloseTo(0.75, 9);
    expect(s.others).toBeCloseTo(0.125, 9);
    expect(s.spanNs).toBe(4e9);
    expect(sumLoads([null])).toBeNull();
  });

  test('the children\'s CPU time from /proc/self/stat, whatever the command name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 10 20 0 0 150 30 1234 56 20 0 11 0 100 1 2\n';
    expect(parseChildrenCpuNs(line)).toBe((1234 + 56) * 1e7);
    expect(parseChildrenCpuNs('4242 (x) S 1\n')).toBeNull();
  });

  test.runIf(process.platform === 'linux')('this machine\'s /proc/stat reads', () => {
    expect(readChildrenCpuNs()).toBeGreaterThanOrEqual(0);
    expect(readChildrenCpuNs('/nonexistent/stat')).toBeNull();
    const t = readProcStat()!;
    expect(t.totalNs).toBeGreaterThan(0);
    expect(t.idleNs).toBeLessThanOrEqual(t.totalNs);
    expect(readProcStat('/nonexistent/stat')).toBeNull();
  });
});
