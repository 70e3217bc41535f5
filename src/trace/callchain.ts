import { basename } from 'node:path';
import { callSiteOffset, kernelIp, ksymAddr } from '../events/ksym.js';
import { lineOfIp } from './user-ip.js';
import type { CpuSample } from './cpu-clock.js';

/**
 * A cpu-clock sample as a trace line (docs/trace-format.md): the sample's `ip` and `sym` are its
 * innermost frame's, and with call chains (-g) `callchain` carries every frame, innermost first,
 * as perf script prints them:
 *
 *   {"type":"sample","ts":250000,"cpu":3,"pid":1000,"tid":1003,"comm":"page_fault1","event":"cpu-clock",
 *    "period":250000,"ip":"0xffffffff8191c9f4","sym":"clear_page_erms+0x1e4","callchain":[
 *    {"ip":"0xffffffff8191c9f4","sym":"clear_page_erms+0x1e4"},{"ip":"0xffffffff81e3f2a0","sym":"do_anonymous_page+0x2a0"},
 *    ...,{"ip":"0x4010c0","sym":"page_fault1.spf:12","dso":"workloads/page_fault1.spf"}]}
 *
 * A kernel frame has no `dso` ([kernel.kallsyms]); its address is the model's fake kernel text
 * (src/events/ksym.ts): the function's start, from its name, plus the offset of its call to the
 * next frame in, or of the sample in it. The user frame is the workload statement the task runs
 * (user-ip.ts): the workload's file is its dso, `FILE:LINE` its symbol.
 */

/** One frame of a call chain. */
export interface ChainFrame {
  /** Hex with 0x: a kernel address (ffffffff8...) or a user one. */
  readonly ip: string;
  /** `function+0xoff` (kernel), `FILE:LINE` (user). */
  readonly sym: string;
  /** The user frame's object (the workload's file); absent for a kernel frame. */
  readonly dso?: string;
}

/** The frames of a sample's chain, innermost first: kernel functions, then the user statement. */
export function chainFrames(chain: readonly string[], userIp: number, program: string): ChainFrame[] {
  const out: ChainFrame[] = [];
  for (let i = 0; i < chain.length; i++) {
    const fn = chain[i];
    const off = callSiteOffset(fn, i === 0 ? '' : chain[i - 1]);
    out.push({ ip: `0x${kernelIp(ksymAddr(fn) + off)}`, sym: `${fn}+0x${off.toString(16)}` });
  }
  if (userIp !== 0) out.push(userFrame(userIp, program));
  return out;
}

/** The user frame of a statement's ip. */
export function userFrame(ip: number, program: string): ChainFrame {
  const line = lineOfIp(ip);
  return { ip: `0x${ip.toString(16)}`, sym: line === undefined ? '[unknown]' : `${basename(program)}:${line}`, dso: program };
}

/**
 * The trace line of a sample (with its '\n'). `event`: the name the user gave; `program`: the
 * workload's file (its path as the header gives it).
 */
export function cpuClockLine(s: CpuSample, event: string, periodNs: number, callchain: boolean, program: string): string {
  const frames = chainFrames(s.chain ?? [], s.userIp, program);
  const leaf = frames[0];
  // A sample in user mode without a statement yet (a thread's very start) has no frame.
  const where = leaf === undefined ? '' : `,"ip":"${leaf.ip}"${leaf.dso === undefined ? `,"sym":${JSON.stringify(leaf.sym)}` : ''}`;
  const chain = callchain ? `,"callchain":${JSON.stringify(frames)}` : '';
  return `{"type":"sample","ts":${Math.round(s.time)},"cpu":${s.cpu},"pid":${s.pid},"tid":${s.tid},"comm":${JSON.stringify(s.comm)},"event":${JSON.stringify(event)},"period":${Math.round(periodNs)}${where}${chain}}\n`;
}
