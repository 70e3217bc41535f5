/**
 * Guest or bare metal, and which hypervisor, from what Linux shows of it (part of the host probe,
 * src/config/host.ts; pure: the files come in through a `HostFiles` reader).
 *
 *   /proc/cpuinfo            x86: the `hypervisor` flag (CPUID.1:ECX bit 31, which every
 *                            hypervisor sets); powerpc: `platform : pSeries` (a partition)
 *   /proc/device-tree/hypervisor/compatible   arm64: a device tree hypervisor node
 *   /sys/hypervisor/type     Xen guests ('xen')
 *   /dev/kmsg                the kernel log, when this user may read it (root, or
 *                            kernel.dmesg_restrict=0): init_hypervisor_platform()'s
 *                            'Hypervisor detected: NAME' line (KVM, PVM, VMware, Microsoft
 *                            Hyper-V, Xen HVM, ...), and a paravirtual guest's line saying its
 *                            remote TLB flushes go by hypercall ('remote TLB flushes via
 *                            PVM_HC_FLUSH_TLB_MULTI' on the PVM guest spfperf is developed on)
 *
 * The CPUID hypervisor leaf (0x40000000) is not read: user space sees what the outermost
 * hypervisor answers, which under PVM (a guest run by a hypervisor inside another VM) is not the
 * one that runs this kernel.
 */
import type { HostFiles } from './host.js';

export const KMSG = '/dev/kmsg';
const XEN_TYPE = '/sys/hypervisor/type';

/** What the probe found out about running under a hypervisor. */
export interface GuestKind {
  readonly guest: boolean;
  /** The hypervisor's name as the kernel named it ('KVM', 'PVM', 'xen'), when something said. */
  readonly hypervisor?: string;
  /** The guest's remote TLB flush is one hypercall (pv_ops.mmu.flush_tlb_multi), its name. */
  readonly flushHypercall?: string;
  /** What told, for the reader. */
  readonly evidence: string;
}

/**
 * The messages of a kernel log, one per line: /dev/kmsg records ('6,12,0,-;text', continuation
 * lines ' KEY=value' dropped) or dmesg's lines ('[    0.000000] text').
 */
export function kernelLogMessages(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(' ')) continue;
    const rec = /^\d+,\d+,\d+,[^;]*;(.*)$/.exec(line);
    if (rec !== null) out.push(rec[1]!);
    else {
      const dm = /^\[\s*\d+\.\d+\]\s?(.*)$/.exec(line);
      if (dm !== null) out.push(dm[1]!);
    }
  }
  return out;
}

interface LogFacts {
  readonly readable: boolean;
  readonly hypervisor?: string;
  readonly flushHypercall?: string;
}

function logFacts(f: HostFiles): LogFacts {
  const text = f.read(KMSG);
  if (text === undefined) return { readable: false };
  let hypervisor: string | undefined;
  let flushHypercall: string | undefined;
  for (const m of kernelLogMessages(text)) {
    const hv = /^Hypervisor detected: (.+?)\s*$/.exec(m);
    if (hv !== null) hypervisor ??= hv[1];
    const fl = /\bremote TLB flushes via (\w+)/.exec(m);
    if (fl !== null) flushHypercall ??= fl[1];
  }
  return { readable: true, ...(hypervisor !== undefined ? { hypervisor } : {}), ...(flushHypercall !== undefined ? { flushHypercall } : {}) };
}

/** The kernel log's part of the evidence, in words (nothing when it says nothing and no guest is seen). */
function logWords(l: LogFacts, guest: boolean): string[] {
  if (!l.readable) return guest ? ['hypervisor unknown: kernel log not readable (dmesg_restrict)'] : [];
  const said: string[] = [];
  if (l.hypervisor !== undefined) said.push(`'Hypervisor detected: ${l.hypervisor}'`);
  if (l.flushHypercall !== undefined) said.push(`remote TLB flushes by hypercall (${l.flushHypercall})`);
  if (said.length > 0) return [`kernel log: ${said.join(', ')}`];
  return guest ? ["no 'Hypervisor detected' line in the kernel log"] : [];
}

/**
 * Guest or bare metal, and what kind of guest. x86: the `hypervisor` cpu flag or a kernel log
 * line; powerpc: the platform line; arm64: a device tree hypervisor node (a KVM guest booted
 * without one looks like bare metal).
 */
export function guestOf(arch: string, c: ReadonlyMap<string, string>, f: HostFiles): GuestKind {
  const log = logFacts(f);
  const xen = f.read(XEN_TYPE)?.trim();
  const hypervisor = log.hypervisor ?? (xen !== undefined && xen !== '' ? xen : undefined);
  const named = {
    ...(hypervisor !== undefined ? { hypervisor } : {}),
    ...(log.flushHypercall !== undefined ? { flushHypercall: log.flushHypercall } : {}),
  };
  const extra = (guest: boolean): string[] => [...logWords(log, guest), ...(xen !== undefined && xen !== '' ? [`${XEN_TYPE}: ${xen}`] : [])];
  if (arch === 'x86') {
    const flag = (c.get('flags') ?? '').split(/\s+/).includes('hypervisor');
    const guest = flag || hypervisor !== undefined;
    return { guest, ...named, evidence: [flag ? "cpu flag 'hypervisor'" : "no 'hypervisor' cpu flag", ...extra(guest)].join('; ') };
  }
  if (arch === 'powerpc') {
    const platform = c.get('platform') ?? '';
    const guest = /pseries/i.test(platform) || hypervisor !== undefined;
    return { guest, ...named, evidence: [platform === '' ? 'no platform line' : `platform ${platform}`, ...extra(guest)].join('; ') };
  }
  const dt = f.read('/proc/device-tree/hypervisor/compatible');
  const guest = dt !== undefined || hypervisor !== undefined;
  return {
    guest,
    ...named,
    evidence: [dt !== undefined ? 'device tree hypervisor node' : 'no device tree hypervisor node (a KVM guest without one looks like bare metal)', ...extra(guest)].join('; '),
  };
}
