import { describe, expect, it } from 'vitest';
import { Topology } from '../../src/engine/topology.js';
import { LAT } from './helpers.js';

describe('Topology', () => {
  it('numbers CPUs socket-major, then core, then SMT thread', () => {
    const t = new Topology({ sockets: 2, coresPerSocket: 2, threadsPerCore: 2 }, LAT);
    expect(t.ncpus).toBe(8);
    expect(t.sockets).toBe(2);
    expect(Array.from(t.socketOf)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(t.coreOf)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('latency depends on how far apart the CPUs are', () => {
    const t = new Topology({ sockets: 2, coresPerSocket: 2, threadsPerCore: 2 }, LAT);
    expect(t.latency(3, 3)).toBe(LAT.local);
    expect(t.latency(0, 1)).toBe(LAT.smt);
    expect(t.latency(1, 0)).toBe(LAT.smt);
    expect(t.latency(0, 2)).toBe(LAT.socket);
    expect(t.latency(5, 7)).toBe(LAT.socket);
    expect(t.latency(0, 4)).toBe(LAT.remote);
    expect(t.latency(7, 1)).toBe(LAT.remote);
    expect(t.latency(-1, 6)).toBe(LAT.memory);
  });

  it('single-threaded cores have no SMT siblings', () => {
    const t = new Topology({ sockets: 1, coresPerSocket: 4, threadsPerCore: 1 }, LAT);
    expect(t.ncpus).toBe(4);
    expect(Array.from(t.coreOf)).toEqual([0, 1, 2, 3]);
    expect(t.latency(0, 1)).toBe(LAT.socket);
  });

  it('a CPU-count override larger than the machine wraps onto extra sockets', () => {
    const t = new Topology({ sockets: 1, coresPerSocket: 2, threadsPerCore: 2 }, LAT, 8);
    expect(t.ncpus).toBe(8);
    expect(t.sockets).toBe(2);
    expect(Array.from(t.socketOf)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(t.latency(0, 4)).toBe(LAT.remote);
    expect(t.latency(4, 5)).toBe(LAT.smt);
  });

  it('a CPU-count override smaller than the machine keeps the declared sockets', () => {
    const t = new Topology({ sockets: 2, coresPerSocket: 4, threadsPerCore: 1 }, LAT, 2);
    expect(t.ncpus).toBe(2);
    expect(t.sockets).toBe(2);
    expect(Array.from(t.socketOf)).toEqual([0, 0]);
  });

  describe('siblingsLast (x86 servers: every core\'s first thread, then the second threads)', () => {
    const spec = { sockets: 2, coresPerSocket: 12, threadsPerCore: 2, siblingsLast: true } as const;

    it('2 sockets x 12 cores x 2 threads: CPU 0 and 24 are siblings; 0-11 and 24-35 are socket 0', () => {
      const t = new Topology(spec, LAT);
      expect(t.ncpus).toBe(48);
      expect(t.sockets).toBe(2);
      for (let cpu = 0; cpu < 48; cpu++) {
        expect(t.socketOf[cpu], `socket of cpu ${cpu}`).toBe(cpu % 24 < 12 ? 0 : 1);
        expect(t.coreOf[cpu], `core of cpu ${cpu}`).toBe(cpu % 24);
      }
      // Every core has exactly two CPUs, n and n + 24.
      for (let core = 0; core < 24; core++) expect(Array.from(t.coreOf).filter((c) => c === core)).toHaveLength(2);
      expect(t.latency(0, 24)).toBe(LAT.smt);
      expect(t.latency(35, 11)).toBe(LAT.smt);
      expect(t.latency(12, 36)).toBe(LAT.smt);
      expect(t.latency(0, 1)).toBe(LAT.socket);
      expect(t.latency(0, 11)).toBe(LAT.socket);
      expect(t.latency(0, 35)).toBe(LAT.socket);
      expect(t.latency(0, 12)).toBe(LAT.remote);
      expect(t.latency(0, 36)).toBe(LAT.remote);
      expect(t.latency(24, 47)).toBe(LAT.remote);
    });

    it('the first sockets x cores CPUs are all different cores, socket-major', () => {
      const t = new Topology(spec, LAT);
      expect(new Set(Array.from(t.coreOf.slice(0, 24))).size).toBe(24);
      expect(Array.from(t.socketOf.slice(0, 24))).toEqual([...Array(12).fill(0), ...Array(12).fill(1)]);
    });

    it('a small topology: 1 socket x 2 cores x 2 threads numbers the cores 0,1,0,1', () => {
      const t = new Topology({ sockets: 1, coresPerSocket: 2, threadsPerCore: 2, siblingsLast: true }, LAT);
      expect(Array.from(t.coreOf)).toEqual([0, 1, 0, 1]);
      expect(Array.from(t.socketOf)).toEqual([0, 0, 0, 0]);
      expect(t.latency(0, 2)).toBe(LAT.smt);
      expect(t.latency(0, 1)).toBe(LAT.socket);
    });

    it('a smaller CPU-count override keeps the first threads: distinct cores over both sockets', () => {
      const t = new Topology(spec, LAT, 24);
      expect(t.ncpus).toBe(24);
      expect(t.sockets).toBe(2);
      expect(new Set(Array.from(t.coreOf)).size).toBe(24);
      expect(t.socketOf[11]).toBe(0);
      expect(t.socketOf[12]).toBe(1);
    });

    it('CPUs beyond the spec wrap onto extra sockets, with core ids no real core has', () => {
      const t = new Topology(spec, LAT, 52);
      expect(t.ncpus).toBe(52);
      expect(t.sockets).toBe(3);
      expect(Array.from(t.socketOf.slice(48))).toEqual([2, 2, 2, 2]);
      expect(Array.from(t.coreOf.slice(48))).toEqual([24, 24, 25, 25]);
      const real = new Set(Array.from(t.coreOf.slice(0, 48)));
      for (const c of t.coreOf.slice(48)) expect(real.has(c)).toBe(false);
      expect(t.latency(48, 49)).toBe(LAT.smt);
      expect(t.latency(48, 50)).toBe(LAT.socket);
      expect(t.latency(0, 48)).toBe(LAT.remote);
      expect(t.latency(24, 48)).toBe(LAT.remote);

      const small = new Topology({ sockets: 1, coresPerSocket: 2, threadsPerCore: 2, siblingsLast: true }, LAT, 8);
      expect(small.sockets).toBe(2);
      expect(Array.from(small.coreOf)).toEqual([0, 1, 0, 1, 2, 2, 3, 3]);
      expect(Array.from(small.socketOf)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    });

    it('is a no-op on single-threaded cores', () => {
      const a = new Topology({ sockets: 2, coresPerSocket: 3, threadsPerCore: 1, siblingsLast: true }, LAT);
      const b = new Topology({ sockets: 2, coresPerSocket: 3, threadsPerCore: 1 }, LAT);
      expect(Array.from(a.coreOf)).toEqual(Array.from(b.coreOf));
      expect(Array.from(a.socketOf)).toEqual(Array.from(b.socketOf));
    });
  });

  it('without siblingsLast (POWER), a core\'s threads stay consecutive', () => {
    for (const siblingsLast of [undefined, false]) {
      const t = new Topology({ sockets: 2, coresPerSocket: 2, threadsPerCore: 8, siblingsLast }, LAT);
      expect(t.ncpus).toBe(32);
      for (let cpu = 0; cpu < 32; cpu++) {
        expect(t.coreOf[cpu]).toBe(Math.floor(cpu / 8));
        expect(t.socketOf[cpu]).toBe(Math.floor(cpu / 16));
      }
      expect(t.latency(0, 7)).toBe(LAT.smt);
      expect(t.latency(0, 8)).toBe(LAT.socket);
      expect(t.latency(0, 16)).toBe(LAT.remote);
    }
  });

  describe('cores sharing an L3 (coresPerL3: an EPYC CCX)', () => {
    const L3 = { ...LAT, l3: 20 };

    it('groups consecutive cores of a socket; with siblingsLast a core\'s second thread joins its first', () => {
      // 2 sockets x 8 cores x 2 threads, 4 cores per CCX: CPUs 0-15 the first threads, 16-31 the second.
      const t = new Topology({ sockets: 2, coresPerSocket: 8, threadsPerCore: 2, siblingsLast: true, coresPerL3: 4 }, L3);
      expect(t.l3Split).toBe(true);
      expect(t.l3s).toBe(4);
      expect(Array.from(t.l3Of.subarray(0, 16))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
      expect(Array.from(t.l3Of.subarray(16))).toEqual(Array.from(t.l3Of.subarray(0, 16)));
      expect(t.latency(0, 16)).toBe(LAT.smt);
      expect(t.latency(0, 3)).toBe(20);
      expect(t.latency(0, 19)).toBe(20);
      expect(t.latency(3, 4)).toBe(LAT.socket);
      expect(t.latency(7, 8)).toBe(LAT.remote);
      expect(t.latency(-1, 8)).toBe(LAT.memory);
    });

    it('a last group smaller than the others when the count is not a multiple', () => {
      const t = new Topology({ sockets: 1, coresPerSocket: 6, threadsPerCore: 1, coresPerL3: 4 }, L3);
      expect(Array.from(t.l3Of)).toEqual([0, 0, 0, 0, 1, 1]);
      expect(t.latency(4, 5)).toBe(20);
      expect(t.latency(3, 4)).toBe(LAT.socket);
    });

    it('one L3 per socket is the topology without the class; a socket reshaped into one L3 pays its latency', () => {
      for (const coresPerL3 of [undefined, 4, 16]) {
        const t = new Topology({ sockets: 2, coresPerSocket: 4, threadsPerCore: 2, coresPerL3 }, L3);
        expect(t.l3Split).toBe(false);
        expect(t.l3Of).toBe(t.socketOf);
        // No cores-per-L3: the socket latency, as always; a machine of CCXs of 4 or more cut to
        // 4 cores a socket (--cores-per-socket 4): its 4 cores are one CCX.
        expect(t.latency(0, 2)).toBe(coresPerL3 === undefined ? LAT.socket : 20);
        expect(t.latency(0, 8)).toBe(LAT.remote);
      }
    });

    it('without an l3 latency a split machine\'s same-L3 transfers cost `socket`', () => {
      const t = new Topology({ sockets: 1, coresPerSocket: 8, threadsPerCore: 1, coresPerL3: 4 }, LAT);
      expect(t.latency(0, 1)).toBe(LAT.socket);
    });
  });
});
