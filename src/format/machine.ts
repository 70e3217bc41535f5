/**
 * `spfperf list --machines NAME` (or FILE): one machine as a run would build it, its topology
 * first (the shape, then each socket's CPUs as Linux would number them, and its L3 groups:
 * src/engine/topology.ts), then its memory, cache-line latencies, the costs it sets over its arch
 * profile's, and storage.
 */
import type { Machine } from '../config/machine.js';
import { machineCpus, shapeText } from '../config/machine.js';
import { Topology, type LineLatencies } from '../engine/topology.js';

/** CPU ids as lscpu lists them: "0-23,96-119". */
export function cpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const GiB = 1024 ** 3;

/**
 * The machine `m` (already reshaped by the topology flags) with the run's `ncpus` of it, and the
 * cache-line latencies the run would use (the arch's, with the machine's overrides). `how` says
 * which flags built it ('' for none).
 */
export function formatMachine(m: Machine, ncpus: number, lat: LineLatencies, how: string): string {
  const t = new Topology(m.topology, lat, ncpus);
  const full = machineCpus(m);
  const out: string[] = [];
  const row = (k: string, v: string): void => void out.push(`  ${(k + ':').padEnd(15)} ${v}`);
  out.push(`${m.name}: ${m.description}`);
  row('arch profile', `${m.profile} (--arch ${m.arch}), ${m.guest ? 'guest' : 'bare metal'}`);
  const numbering = m.topology.threadsPerCore > 1 ? (m.topology.siblingsLast === true ? "; SMT siblings numbered after every core's first thread" : "; a core's threads numbered together") : '';
  row('topology', `${shapeText(m.topology)} = ${full} CPUs${numbering}`);
  row('built', `${ncpus === full ? `all ${full} CPUs` : `the first ${ncpus} of ${full} CPUs`}${how === '' ? '' : ` (${how})`}`);
  const bySocket = new Map<number, number[]>();
  for (let cpu = 0; cpu < ncpus; cpu++) {
    const s = t.socketOf[cpu];
    let list = bySocket.get(s);
    if (list === undefined) bySocket.set(s, (list = []));
    list.push(cpu);
  }
  for (const [s, cpus] of [...bySocket].sort((a, b) => a[0] - b[0])) {
    const threads = new Map<number, number>();
    for (const cpu of cpus) threads.set(t.coreOf[cpu], (threads.get(t.coreOf[cpu]) ?? 0) + 1);
    const per = new Map<number, number>();
    for (const n of threads.values()) per.set(n, (per.get(n) ?? 0) + 1);
    const shape = [...per].sort((a, b) => b[0] - a[0]).map(([n, cores]) => `${cores} core${cores === 1 ? '' : 's'} x ${n} thread${n === 1 ? '' : 's'}`).join(' + ');
    row(`socket ${s}`, `CPU${cpus.length === 1 ? '' : 's'} ${cpuList(cpus)}: ${shape}`);
    if (t.l3Split) {
      const groups = new Map<number, number[]>();
      for (const cpu of cpus) {
        let g = groups.get(t.l3Of[cpu]);
        if (g === undefined) groups.set(t.l3Of[cpu], (g = []));
        g.push(cpu);
      }
      const lists = [...groups].sort((a, b) => a[0] - b[0]).map(([, g]) => cpuList(g.sort((a, b) => a - b)));
      row(`  its L3s`, lists.join('; '));
    }
  }
  const unused = m.topology.sockets - bySocket.size;
  if (unused > 0) row('unused', `${unused} socket${unused === 1 ? '' : 's'} (no CPU of the run on ${unused === 1 ? 'it' : 'them'})`);
  if (t.l3Split) {
    const group = m.topology.coresPerL3!;
    const perSocket = Math.ceil(m.topology.coresPerSocket / group);
    const used = new Set(Array.from(t.l3Of)).size;
    row('L3 (CCX)', `${group} cores share an L3, ${perSocket} L3s a socket; the run's CPUs on ${used} of ${t.l3s}`);
  }
  row('memory', `${+(m.memoryBytes / GiB).toFixed(2)} GiB, ${m.topology.sockets} NUMA node${m.topology.sockets === 1 ? '' : 's'} (one a socket)`);
  const sameL3 = t.l3Split ? `, same L3 ${t.l3Latency}, same socket (other L3) ${lat.socket}` : `, same socket ${t.l3Latency}`;
  row('line (ns)', `local ${lat.local}, SMT sibling ${lat.smt}${sameL3}, other socket ${lat.remote}, from memory ${lat.memory}`);
  const costs = Object.entries(m.costs ?? {});
  if (costs.length > 0) row('costs (ns)', `${costs.map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`).join(', ')}; the rest the ${m.profile} profile's`);
  row('storage read', `${+(m.ioLatencyNs / 1000).toFixed(1)} us`);
  if (m.file !== undefined) row('sources', `${m.file} (every number's)`);
  return out.join('\n') + '\n';
}
