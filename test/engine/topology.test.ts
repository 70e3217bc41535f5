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
});
