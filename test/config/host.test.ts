/**
 * `--machine host` (src/config/host.ts): the probe on fixture trees of /sys and /proc
 * (fixtures/host/: a 2-socket SMT Xeon, a POWER8 box, a KVM guest), its errors, and the real
 * probe on this machine (Linux only).
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { describeHost, fsHostFiles, parseCpuList, probeHost as probe, readHost, withMeasuredCosts, type HostFiles } from '../../src/config/host.js';
import { getMachine, HOST_PRESETS, hostInfo, KVM_ARM64, KVM_X86, machineCpus, MACHINES } from '../../src/config/machine.js';
import { Topology } from '../../src/engine/topology.js';
import { ConfigError } from '../../src/errors.js';
import { prepareRun } from '../../src/sim/setup.js';
import { EV } from '../../src/events/catalog.js';
import { proc, runMm, total } from '../mm/helpers.js';
import { ROOT } from '../helpers/golden.js';

const FIXTURES = join(ROOT, 'fixtures', 'host');
/** The probe with the presets machine.ts gives it. */
const probeHost = (f: HostFiles, arch?: string): ReturnType<typeof probe> => probe(f, HOST_PRESETS, arch);
const tree = (name: string): HostFiles => fsHostFiles(join(FIXTURES, name));

/** A fixture tree with some files replaced (a string) or removed (null). */
function overlay(base: HostFiles, changes: Record<string, string | null>): HostFiles {
  return {
    read: (p) => (p in changes ? (changes[p] ?? undefined) : base.read(p)),
    list: (d) => base.list(d),
  };
}

/** Which CPUs share a socket and a core, as the fixture's topology files say. */
function fixtureTopology(name: string, ncpus: number): { pkg: number[]; core: string[] } {
  const pkg: number[] = [];
  const core: string[] = [];
  for (let c = 0; c < ncpus; c++) {
    const dir = join(FIXTURES, name, 'sys/devices/system/cpu', `cpu${c}`, 'topology');
    const p = Number(readFileSync(join(dir, 'physical_package_id'), 'utf8'));
    pkg.push(p);
    core.push(`${p}:${Number(readFileSync(join(dir, 'core_id'), 'utf8'))}`);
  }
  return { pkg, core };
}

describe.each(['xeon-2s14c', 'power8-smt8', 'kvm-2vcpu', 'pvm-2vcpu'])('%s: the engine\'s topology groups CPUs as Linux does', (name) => {
  test('same socket and same core for every pair of CPUs', () => {
    const h = probeHost(tree(name));
    const topo = new Topology(h.machine.topology, getArch(h.machine.profile).lineLatencies);
    expect(topo.ncpus).toBe(h.ncpus);
    const f = fixtureTopology(name, h.ncpus);
    for (let a = 0; a < h.ncpus; a++) {
      for (let b = 0; b < h.ncpus; b++) {
        expect(topo.socketOf[a] === topo.socketOf[b], `${a} ${b} socket`).toBe(f.pkg[a] === f.pkg[b]);
        expect(topo.coreOf[a] === topo.coreOf[b], `${a} ${b} core`).toBe(f.core[a] === f.core[b]);
      }
    }
  });
});

describe('host probe on fixtures', () => {
  test('2 x 14-core x 2-SMT Xeon, bare metal, 2 NUMA nodes, kernel 3.10', () => {
    const h = probeHost(tree('xeon-2s14c'));
    expect(h.machine.name).toBe('host');
    expect(h.machine.arch).toBe('x86');
    expect(h.machine.profile).toBe('x86');
    // Linux lists cpu0's sibling as cpu28: every core's first thread first.
    expect(h.machine.topology).toEqual({ sockets: 2, coresPerSocket: 14, threadsPerCore: 2, siblingsLast: true });
    expect(h.ncpus).toBe(56);
    expect(machineCpus(h.machine)).toBe(56);
    expect(h.numaNodes).toBe(2);
    expect(h.machine.memoryBytes).toBe(263855192 * 1024);
    expect(h.thp).toBe('always');
    expect(h.guest).toBe(false);
    expect(h.machine.costs).toBeUndefined();
    expect(h.cpuModel).toBe('Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz');
    expect(h.kernelRelease).toBe('3.10.0-957.el7.x86_64');
    expect(h.kernelVersion).toBe('3.10');
    expect(h.designOfKernel).toBe('none');
    // Bare metal's storage: the SATA SSD estimate of e5-2690v3.
    expect(h.machine.ioLatencyNs).toBe(MACHINES['e5-2690v3']!.ioLatencyNs);
    expect(h.storage.estimate).toMatch(/^estimated as e5-2690v3's /);
    expect(h.notes).toEqual([]);
  });

  test('POWER8 PowerNV with SMT8: powerpc-hash, the p8-80 preset\'s shape, NUMA nodes 0 and 8', () => {
    const h = probeHost(tree('power8-smt8'));
    expect(h.machine.arch).toBe('powerpc');
    expect(h.machine.profile).toBe('powerpc-hash');
    expect(h.machine.topology).toEqual(MACHINES['p8-80']!.topology);
    expect(h.ncpus).toBe(80);
    expect(h.numaNodes).toBe(2);
    expect(h.machine.memoryBytes).toBe(66893120 * 1024);
    expect(h.thp).toBe('madvise');
    expect(h.guest).toBe(false);
    expect(h.guestEvidence).toBe('platform PowerNV');
    expect(h.costsFrom).toBe("none (bare metal: the arch's own)");
    expect(h.cpuModel).toBe('POWER8E (raw), altivec supported');
    expect(h.kernelVersion).toBe('4.15');
    expect(h.designOfKernel).toBe('none');
  });

  test('2-vCPU KVM guest: the x86-vm16 guest costs (the same object), THP madvise, kernel 6.18 with per-VMA locks', () => {
    const h = probeHost(tree('kvm-2vcpu'));
    expect(h.machine.arch).toBe('x86');
    expect(h.machine.topology).toEqual({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1 });
    expect(h.ncpus).toBe(2);
    expect(h.numaNodes).toBe(1);
    expect(h.guest).toBe(true);
    expect(h.machine.costs).toBe(KVM_X86);
    expect(MACHINES['x86-vm16']!.costs).toBe(KVM_X86);
    expect(h.thp).toBe('madvise');
    expect(h.kernelRelease).toBe('6.18.44-fc-v1272');
    expect(h.kernelVersion).toBe('6.18');
    expect(h.designOfKernel).toBe('per-vma-lock');
    expect(h.machine.ioLatencyNs).toBe(MACHINES['x86-vm16']!.ioLatencyNs);
    // No kernel log in this tree: which hypervisor is not known, and the KVM guest costs stand.
    expect(h.hypervisor).toBeUndefined();
    expect(h.machine.remoteTlbFlush).toBeUndefined();
    expect(h.costsFrom).toBe("x86-vm16's (KVM_X86)");
    expect(describeHost(h)).toBe(
      "probed: AMD EPYC, 1 socket x 2 cores x 1 thread, 1 NUMA node, 24 GiB, guest (cpu flag 'hypervisor'; hypervisor unknown: kernel log not readable (dmesg_restrict)), THP madvise, " +
        "kernel 6.18.44-fc-v1272 (per-VMA locks), guest costs x86-vm16's (KVM_X86), storage estimated as x86-vm16's (not probed), 100 us a read",
    );
  });

  test("the same guest with its kernel log (/dev/kmsg): a PVM guest whose remote TLB flushes are a hypercall, with the PVM guest's costs", () => {
    const h = probeHost(tree('pvm-2vcpu'));
    expect(h.guest).toBe(true);
    expect(h.hypervisor).toBe('PVM');
    expect(h.machine.remoteTlbFlush).toBe('hypercall');
    expect(h.machine.costs).toBe(HOST_PRESETS.pvmCosts.costs);
    expect(h.costsFrom).toBe(HOST_PRESETS.pvmCosts.label);
    expect(h.guestEvidence).toBe("cpu flag 'hypervisor'; kernel log: 'Hypervisor detected: PVM', remote TLB flushes by hypercall (PVM_HC_FLUSH_TLB_MULTI)");
    expect(h.machine.description).toMatch(/, PVM guest$/);
    // Everything else as without the log.
    const { hypervisor: _h, guestEvidence: _e, costsFrom: _c, machine: m1, ...rest1 } = h;
    const { hypervisor: _h2, guestEvidence: _e2, costsFrom: _c2, machine: m2, ...rest2 } = probeHost(tree('kvm-2vcpu'));
    expect(rest1).toEqual(rest2);
    expect(m1.topology).toEqual(m2.topology);
  });

  test('other guests keep the KVM costs and IPIs: a KVM guest\'s log, a PVM guest without the hypercall flush, a dmesg-format log', () => {
    const kvmLog = '6,12,0,-;Hypervisor detected: KVM\n6,40,5,-;KVM setup pv remote TLB flush\n';
    const kvm = probeHost(overlay(tree('kvm-2vcpu'), { '/dev/kmsg': kvmLog }));
    expect(kvm.hypervisor).toBe('KVM');
    expect(kvm.machine.costs).toBe(KVM_X86);
    // KVM's PV flush only skips preempted vCPUs: running ones still take the IPI.
    expect(kvm.machine.remoteTlbFlush).toBeUndefined();
    expect(kvm.guestEvidence).toBe("cpu flag 'hypervisor'; kernel log: 'Hypervisor detected: KVM'");
    // The upstream PVM guest keeps the native flush_tlb_multi: PVM's costs, IPIs.
    const pvm = probeHost(overlay(tree('kvm-2vcpu'), { '/dev/kmsg': '[    0.000000] Hypervisor detected: PVM\n' }));
    expect(pvm.hypervisor).toBe('PVM');
    expect(pvm.machine.costs).toBe(HOST_PRESETS.pvmCosts.costs);
    expect(pvm.machine.remoteTlbFlush).toBeUndefined();
    // A log that lost its boot lines (the ring buffer wrapped).
    const wrapped = probeHost(overlay(tree('kvm-2vcpu'), { '/dev/kmsg': '6,9000,99999,-;eth0: link up\n' }));
    expect(wrapped.hypervisor).toBeUndefined();
    expect(wrapped.guestEvidence).toBe("cpu flag 'hypervisor'; no 'Hypervisor detected' line in the kernel log");
    // Xen says so in /sys/hypervisor/type.
    const xen = probeHost(overlay(tree('kvm-2vcpu'), { '/sys/hypervisor/type': 'xen\n' }));
    expect(xen.hypervisor).toBe('xen');
    expect(xen.machine.costs).toBe(KVM_X86);
  });

  test('bare metal says nothing of a kernel log it cannot read; a log line alone makes a guest', () => {
    expect(probeHost(tree('xeon-2s14c')).guestEvidence).toBe("no 'hypervisor' cpu flag");
    const h = probeHost(overlay(tree('xeon-2s14c'), { '/dev/kmsg': '6,1,0,-;Hypervisor detected: KVM\n' }));
    expect(h.guest).toBe(true);
    expect(h.guestEvidence).toBe("no 'hypervisor' cpu flag; kernel log: 'Hypervisor detected: KVM'");
  });

  test('measured costs go over the preset\'s, and list shows them', () => {
    const h = probeHost(tree('pvm-2vcpu'));
    const m = withMeasuredCosts(h, { costs: { syscallNs: 1000, guestFaultNs: 9000 }, summary: 'syscallNs 1000, guestFaultNs 9000', measuredAt: '2026-01-02T03:04:05.000Z' });
    expect(m.machine.costs).toEqual({ ...HOST_PRESETS.pvmCosts.costs, syscallNs: 1000, guestFaultNs: 9000 });
    expect(m.machine.remoteTlbFlush).toBe('hypercall');
    expect(h.machine.costs).toBe(HOST_PRESETS.pvmCosts.costs);
    expect(describeHost(m)).toContain(`costs measured here 2026-01-02 (syscallNs 1000, guestFaultNs 9000), other guest costs ${HOST_PRESETS.pvmCosts.label}`);
  });

  test('the arch given (process.arch or uname -m) agrees with /proc/cpuinfo; one spfperf has no model of is an error', () => {
    expect(probeHost(tree('kvm-2vcpu'), 'x64')).toEqual(probeHost(tree('kvm-2vcpu')));
    expect(probeHost(tree('power8-smt8'), 'ppc64le')).toEqual(probeHost(tree('power8-smt8')));
    expect(() => probeHost(tree('kvm-2vcpu'), 'riscv64')).toThrow(/no model of this arch \(riscv64/);
  });

  test('powerpc: the MMU line decides radix or hash; without it, POWER9 and later are radix', () => {
    const p8 = tree('power8-smt8');
    const cpuinfo = p8.read('/proc/cpuinfo')!;
    const radix = overlay(p8, { '/proc/cpuinfo': cpuinfo.replace('MMU\t\t: Hash', 'MMU\t\t: Radix') });
    expect(probeHost(radix).machine.profile).toBe('powerpc-radix');
    const noMmu = cpuinfo.replace(/^MMU.*\n/m, '');
    expect(probeHost(overlay(p8, { '/proc/cpuinfo': noMmu })).machine.profile).toBe('powerpc-hash');
    const p9 = noMmu.replaceAll('POWER8E (raw)', 'POWER9 (raw)');
    expect(probeHost(overlay(p8, { '/proc/cpuinfo': p9 })).machine.profile).toBe('powerpc-radix');
    // A pSeries partition runs under a hypervisor.
    const lpar = cpuinfo.replace('platform\t: PowerNV', 'platform\t: pSeries');
    const h = probeHost(overlay(p8, { '/proc/cpuinfo': lpar }));
    expect(h.guest).toBe(true);
    expect(h.machine.costs).toBeUndefined();
  });

  test('arm64 from CPU implementer; a device tree hypervisor node makes a guest with arm64-vm\'s costs', () => {
    const arm = overlay(tree('kvm-2vcpu'), {
      '/proc/cpuinfo': 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n',
    });
    const metal = probeHost(arm);
    expect(metal.machine.arch).toBe('arm64');
    expect(metal.machine.profile).toBe('arm64');
    expect(metal.guest).toBe(false);
    expect(metal.designOfKernel).toBe('per-vma-lock');
    const guest = probeHost(overlay(arm, { '/proc/device-tree/hypervisor/compatible': 'linux,kvm\0' }));
    expect(guest.guest).toBe(true);
    expect(guest.machine.costs).toBe(KVM_ARM64);
    expect(MACHINES['arm64-vm']!.costs).toBe(KVM_ARM64);
  });

  test.each([
    ['6.3.13', 'none'],
    ['6.4.0', 'per-vma-lock'],
    ['6.18.44-fc-v1272', 'per-vma-lock'],
    ['7.0-rc1', 'per-vma-lock'],
    ['5.15.0-91-generic', 'none'],
  ])('kernel %s has design %s', (release, design) => {
    const h = probeHost(overlay(tree('kvm-2vcpu'), { '/proc/sys/kernel/osrelease': `${release}\n` }));
    expect(h.kernelRelease).toBe(release);
    expect(h.designOfKernel).toBe(design);
  });

  test('the version for the era keys is read as era.ts reads it: 2.6.N is its own release', () => {
    const h = probeHost(overlay(tree('kvm-2vcpu'), { '/proc/sys/kernel/osrelease': '2.6.33-rc2\n' }));
    expect(h.kernelVersion).toBe('2.6.33');
    expect(h.designOfKernel).toBe('none');
  });

  test('no THP file (CONFIG_TRANSPARENT_HUGEPAGE=n): unavailable; no node directory (no NUMA): one node', () => {
    const base = tree('kvm-2vcpu');
    const f: HostFiles = { read: (p) => (p === '/sys/kernel/mm/transparent_hugepage/enabled' ? undefined : base.read(p)), list: () => [] };
    const h = probeHost(f);
    expect(h.thp).toBe('unavailable');
    expect(h.numaNodes).toBe(1);
  });

  test('a CPU offline leaves an irregular machine: its online CPUs without SMT, said in a note', () => {
    const h = probeHost(overlay(tree('xeon-2s14c'), { '/sys/devices/system/cpu/online': '0-54\n' }));
    expect(h.ncpus).toBe(55);
    expect(h.machine.topology).toEqual({ sockets: 1, coresPerSocket: 55, threadsPerCore: 1 });
    expect(h.notes).toEqual(['irregular topology (2 sockets, 28 cores, 55 CPUs): modelled as 1 x 55 CPUs without SMT']);
  });

  test('CPU lists', () => {
    expect(parseCpuList('0-3,8-11\n', 'x')).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(parseCpuList('0,28', 'x')).toEqual([0, 28]);
    expect(parseCpuList('5', 'x')).toEqual([5]);
    expect(() => parseCpuList('3-1', '/f')).toThrow('--machine host: /f: \'3-1\' is not a CPU list');
  });
});

describe('a bad or missing file is a ConfigError naming the file', () => {
  const T = '/sys/devices/system/cpu/cpu1/topology';
  test.each([
    ['/proc/meminfo', null, /^--machine host: \/proc\/meminfo: cannot read it/],
    ['/proc/meminfo', 'MemFree: 5 kB\n', /^--machine host: \/proc\/meminfo: no MemTotal line$/],
    ['/proc/cpuinfo', null, /^--machine host: \/proc\/cpuinfo: cannot read it/],
    ['/proc/cpuinfo', 'processor : 0\n', /^--machine host: \/proc\/cpuinfo: cannot tell the arch/],
    ['/sys/devices/system/cpu/online', 'all', /^--machine host: \/sys\/devices\/system\/cpu\/online: 'all' is not a CPU list$/],
    ['/sys/devices/system/cpu/online', '', /^--machine host: \/sys\/devices\/system\/cpu\/online: no CPU online$/],
    [`${T}/core_id`, null, /^--machine host: \/sys\/devices\/system\/cpu\/cpu1\/topology\/core_id: cannot read it/],
    [`${T}/physical_package_id`, 'x\n', /^--machine host: \/sys\/devices\/system\/cpu\/cpu1\/topology\/physical_package_id: 'x' is not a number$/],
    [`${T}/thread_siblings_list`, '0\n', /thread_siblings_list: CPU 1 is not among its own siblings$/],
    ['/sys/kernel/mm/transparent_hugepage/enabled', 'madvise\n', /^--machine host: \/sys\/kernel\/mm\/transparent_hugepage\/enabled: no \[mode\] in 'madvise'$/],
    ['/proc/sys/kernel/osrelease', null, /^--machine host: \/proc\/sys\/kernel\/osrelease: cannot read it/],
    ['/proc/sys/kernel/osrelease', 'Linux\n', /osrelease: 'Linux' does not start with a version X\.Y$/],
  ])('%s = %j', (path, text, msg) => {
    const f = overlay(tree('kvm-2vcpu'), { [path]: text });
    expect(() => probeHost(f)).toThrow(ConfigError);
    expect(() => probeHost(f)).toThrow(msg);
  });

  test('elsewhere than Linux: one line saying so', () => {
    expect(() => readHost(HOST_PRESETS, { platform: 'darwin' })).toThrow(ConfigError);
    expect(() => readHost(HOST_PRESETS, { platform: 'darwin' })).toThrow(/^--machine host: needs Linux \(\/proc and \/sys\); this is darwin$/);
  });
});

describe.runIf(process.platform === 'linux')('the real probe on this machine', () => {
  test('what holds on any Linux: its CPUs, memory, a kernel version', () => {
    const h = hostInfo();
    const online = parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'), 'online').length;
    expect([availableParallelism(), online]).toContain(h.ncpus);
    expect(machineCpus(h.machine)).toBe(h.ncpus);
    expect(h.machine.memoryBytes).toBeGreaterThan(0);
    expect(h.numaNodes).toBeGreaterThanOrEqual(1);
    expect(h.kernelVersion).toMatch(/^\d+\.\d+$/);
    // Probed once per process: the same objects every time.
    expect(hostInfo()).toBe(h);
    expect(getMachine('host')).toBe(h.machine);
  });

  test('--machine host runs a workload on the probed machine, with its CPUs and its guest costs', () => {
    const h = hostInfo();
    const p = prepareRun('page_fault1', [], { machine: 'host' });
    expect(p.machine).toBe(h.machine);
    expect(p.ncpus).toBe(h.ncpus);
    expect(p.arch.costs.wakeupNs).toBe(h.machine.costs?.wakeupNs ?? getArch(h.machine.profile).costs.wakeupNs);
    const r = runMm(proc('a = mmap $ncpus * 64K', 'threads $ncpus {', '  touch a write offset $tid * 64K length 64K', '}'), { machine: 'host', ncpus: h.ncpus, keep: false });
    expect(r.signals).toEqual([]);
    expect(total(r, EV.PAGE_FAULTS)).toBe((h.ncpus * 64 * 1024) / 2 ** getArch(h.machine.profile).pageShift);
  });
});
